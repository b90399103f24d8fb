package protocol

// Typed ids of rathaus's own things. Matrix ids are mautrix's id.UserID,
// id.RoomID and id.EventID.

// DepartmentID is a department's stable slug, e.g. "bauamt". It names the
// department's rooms and aliases, appears in de.rathaus.department and
// de.rathaus.case and is stored in the database, so it must not change
// once rooms exist.
type DepartmentID string

// String returns the id as it is written.
func (d DepartmentID) String() string { return string(d) }

// CaseID is a citizen case's stable, random id (a UUID). It appears in
// de.rathaus.case, in the guest chat's URLs and in the database; the
// human-readable reference (Aktenzeichen) is a separate field.
type CaseID string

// String returns the id as it is written.
func (c CaseID) String() string { return string(c) }
