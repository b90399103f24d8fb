// Package protocol defines the Matrix events rathaus adds to rooms: the
// de.rathaus.* event types and their content. It has no logic, so that
// rathaus, its widgets and a federated peer read exactly the same shape.
package protocol

import (
	"reflect"

	"maunium.net/go/mautrix/event"
)

var (
	// AuthorityEventType is state "" in the authority space.
	AuthorityEventType = event.Type{Type: "de.rathaus.authority", Class: event.StateEventType}
	// DepartmentEventType is state "" in a department's space and in its
	// staff room.
	DepartmentEventType = event.Type{Type: "de.rathaus.department", Class: event.StateEventType}
)

// AuthorityContent describes the authority (Stadt, Kreis, Amt).
type AuthorityContent struct {
	Name       string `json:"name"`
	ShortName  string `json:"short_name,omitempty"`
	AGS        string `json:"ags,omitempty"`
	ARS        string `json:"ars,omitempty"`
	ServerName string `json:"server_name"`
	ContactURL string `json:"contact_url,omitempty"`
	PrivacyURL string `json:"privacy_url,omitempty"`
}

// RoomKind says which of a department's rooms carries the event.
type RoomKind string

const (
	RoomKindSpace     RoomKind = "space"
	RoomKindStaffRoom RoomKind = "staff_room"
)

// Valid reports whether k is a known kind.
func (k RoomKind) Valid() bool { return k == RoomKindSpace || k == RoomKindStaffRoom }

// DepartmentContent describes a department (Bauamt, Bürgerbüro, …).
type DepartmentContent struct {
	ID          DepartmentID        `json:"id"`
	Name        string              `json:"name"`
	Description string              `json:"description,omitempty"`
	Room        RoomKind            `json:"room"`
	Services    []string            `json:"services"`
	TimeZone    string              `json:"time_zone"`
	OfficeHours map[string][]string `json:"office_hours"`
	ClosedDates []string            `json:"closed_dates"`
	// Archived is true once the department was removed from the config;
	// its rooms are kept read-only, never deleted.
	Archived bool `json:"archived,omitempty"`
}

func init() {
	event.TypeMap[AuthorityEventType] = reflect.TypeOf(AuthorityContent{})
	event.TypeMap[DepartmentEventType] = reflect.TypeOf(DepartmentContent{})
}
