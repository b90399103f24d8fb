package config

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/officehours"
	"github.com/rathaus-de/rathaus/protocol"
)

// ReservedDepartmentID cannot be a department's id: the authority space's
// alias uses it.
const ReservedDepartmentID protocol.DepartmentID = "space"

// DepartmentConfig is one department (Amt) of the authority.
type DepartmentConfig struct {
	ID          protocol.DepartmentID `yaml:"id"`
	Name        string                `yaml:"name"`
	Description string                `yaml:"description"`
	// ReferencePrefix starts the department's case references
	// (Aktenzeichen) such as BAU-2026-00042. Validate (and so Parse)
	// derives it from the id when it is left out.
	ReferencePrefix string `yaml:"reference_prefix"`
	// Services are the LeiKa keys (Leistungskatalog, 14 digits) this
	// department handles; citizens asking for one are routed here. A key
	// belongs to one department, unless an authority serves several
	// municipalities: then departments that list the same key tell them
	// apart by Municipalities.
	Services []string `yaml:"services"`
	// Municipalities, if set, limits the department's services to
	// citizens of these municipalities: prefixes of the Amtlicher
	// Regionalschlüssel (ARS) a hand-over names, of 2 (Land), 3
	// (Regierungsbezirk), 5 (Kreis), 9 (Gemeindeverband) or 12 digits
	// (Gemeinde). The longest matching prefix wins; a department without
	// municipalities takes its services' other citizens.
	Municipalities []string `yaml:"municipalities"`
	// TimeZone is the IANA zone of the office hours and closed dates.
	// Parse fills in DefaultTimeZone when it is left out.
	TimeZone string `yaml:"time_zone"`
	// OfficeHours maps lowercase English weekday names ("monday") to
	// "HH:MM-HH:MM" ranges, as written in the file. Schedule holds them
	// parsed.
	OfficeHours map[string][]string `yaml:"office_hours"`
	// ClosedDates are "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD", as written.
	ClosedDates []string      `yaml:"closed_dates"`
	Staff       []StaffConfig `yaml:"staff"`
	// Schedule is TimeZone, OfficeHours and ClosedDates parsed. Validate
	// (and so Parse and Load) fills it; it is never read from the file.
	Schedule officehours.Schedule `yaml:"-"`
}

// StaffConfig is one member of a department's staff.
type StaffConfig struct {
	// User may be on any homeserver (shared services of several
	// municipalities).
	User id.UserID `yaml:"user"`
	// Role defaults to DefaultRole (caseworker) when left out.
	Role Role `yaml:"role"`
	// MaxCases is how many open cases the member handles at once; at least
	// 1, DefaultMaxCases when left out.
	MaxCases int `yaml:"max_cases"`
}

// UnmarshalYAML applies the per-entry defaults before decoding, so that a
// key left out takes its default while an explicit "max_cases: 0" stays 0
// and Validate reports it.
func (s *StaffConfig) UnmarshalYAML(node *yaml.Node) error {
	type plain StaffConfig
	p := plain{Role: DefaultRole, MaxCases: DefaultMaxCases}
	err := node.Decode(&p)
	*s = StaffConfig(p)
	return err
}

// Role is what a staff member may do in a department.
type Role string

// Roles, from least to most privileged.
const (
	// RoleCaseworker (Sachbearbeiter:in) claims and handles cases.
	RoleCaseworker Role = "caseworker"
	// RoleLead (Amtsleitung) also assigns and transfers cases.
	RoleLead Role = "lead"
	// RoleAdmin also manages the department's rooms and rathaus itself.
	RoleAdmin Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleCaseworker || r == RoleLead || r == RoleAdmin
}

// PowerLevel is the Matrix power level the role gets in the department's
// rooms: admin 100, lead 75, caseworker 50, and 0 for an unknown role.
func (r Role) PowerLevel() int {
	switch r {
	case RoleAdmin:
		return 100
	case RoleLead:
		return 75
	case RoleCaseworker:
		return 50
	}
	return 0
}

// BotPowerLevel is the bot's power level in every room it manages. Matrix
// lets a user change another user's power level, kick or ban them only if
// the acting user's level is strictly higher than the target's. Admins have
// 100, so at 100 the bot could not demote or remove an admin whom the config
// no longer lists; at 101 the rooms always converge to the config and no
// configured human can lock the bot out.
const BotPowerLevel = 101

// Department returns the department with the given id, or nil. The pointer
// points into c.Departments.
func (c *Config) Department(depID protocol.DepartmentID) *DepartmentConfig {
	for i := range c.Departments {
		if c.Departments[i].ID == depID {
			return &c.Departments[i]
		}
	}
	return nil
}

// DepartmentForService returns the department that handles the LeiKa key
// for a citizen whose municipality is unknown, or nil if none does: the
// one that lists the key without municipalities, else the first that
// lists it.
func (c *Config) DepartmentForService(key string) *DepartmentConfig {
	return c.DepartmentForServiceIn(key, "")
}

// DepartmentForServiceIn returns the department that handles the LeiKa key
// for a citizen of the municipality with the ARS ars ("" if unknown), or
// nil if none lists the key. Among the departments that list the key, the
// one with the longest municipalities prefix of ars wins; then the one
// without municipalities; then the first.
func (c *Config) DepartmentForServiceIn(key, ars string) *DepartmentConfig {
	var best, open, first *DepartmentConfig
	bestLen := 0
	for i := range c.Departments {
		d := &c.Departments[i]
		if !slices.Contains(d.Services, key) {
			continue
		}
		if first == nil {
			first = d
		}
		if len(d.Municipalities) == 0 {
			if open == nil {
				open = d
			}
			continue
		}
		for _, m := range d.Municipalities {
			if ars != "" && strings.HasPrefix(ars, m) && len(m) > bestLen {
				best, bestLen = d, len(m)
			}
		}
	}
	switch {
	case best != nil:
		return best
	case open != nil:
		return open
	}
	return first
}

// IsStaff reports whether u is on the staff of any department.
func (c *Config) IsStaff(u id.UserID) bool {
	return len(c.DepartmentsOf(u)) > 0
}

// IsAdmin reports whether u has the admin role in any department.
func (c *Config) IsAdmin(u id.UserID) bool {
	for i := range c.Departments {
		if m := c.Departments[i].Member(u); m != nil && m.Role == RoleAdmin {
			return true
		}
	}
	return false
}

// DepartmentsOf returns the ids of the departments u is staff of, in config
// order, or nil.
func (c *Config) DepartmentsOf(u id.UserID) []protocol.DepartmentID {
	var out []protocol.DepartmentID
	for i := range c.Departments {
		if c.Departments[i].Member(u) != nil {
			out = append(out, c.Departments[i].ID)
		}
	}
	return out
}

// Member returns u's staff entry in d, or nil if u is not on d's staff. The
// pointer points into d.Staff.
func (d *DepartmentConfig) Member(u id.UserID) *StaffConfig {
	for i := range d.Staff {
		if d.Staff[i].User == u {
			return &d.Staff[i]
		}
	}
	return nil
}
