package departments

import (
	"time"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
)

// Department is what a channel (the guest chat, later e-mail and the OZG
// hand-over) may show a citizen about a department, as of one moment.
type Department struct {
	ID          protocol.DepartmentID
	Name        string
	Description string
	// Open is whether the department is within its office hours.
	Open bool
	// NextOpening is when it opens next if closed; zero if open or never.
	NextOpening time.Time
	// OfficeHours summarises the weekly hours in words.
	OfficeHours string
}

// Authority is what a channel may show a citizen about the authority.
type Authority struct {
	Name       string
	PrivacyURL string
	ContactURL string
}

// Department returns a department of the running config as of now, or
// false if there is no such department.
func (s *Service) Department(dept protocol.DepartmentID) (Department, bool) {
	d := s.config().Department(dept)
	if d == nil {
		return Department{}, false
	}
	return departmentAt(d, time.Now()), true
}

// Departments returns every department of the running config as of now,
// in the config's order.
func (s *Service) Departments() []Department {
	cfg := s.config()
	now := time.Now()
	out := make([]Department, 0, len(cfg.Departments))
	for i := range cfg.Departments {
		out = append(out, departmentAt(&cfg.Departments[i], now))
	}
	return out
}

// DepartmentForService returns the department that handles a LeiKa
// service key, or false if none does.
func (s *Service) DepartmentForService(leika string) (Department, bool) {
	d := s.config().DepartmentForService(leika)
	if d == nil {
		return Department{}, false
	}
	return departmentAt(d, time.Now()), true
}

// DepartmentForServiceIn returns the department that handles a LeiKa
// service key for a citizen of the municipality with the ARS ars ("" if
// unknown), or false if none does (config.Config.DepartmentForServiceIn).
func (s *Service) DepartmentForServiceIn(leika, ars string) (Department, bool) {
	d := s.config().DepartmentForServiceIn(leika, ars)
	if d == nil {
		return Department{}, false
	}
	return departmentAt(d, time.Now()), true
}

// Authority describes the authority.
func (s *Service) Authority() Authority {
	a := s.config().Authority
	return Authority{Name: a.Name, PrivacyURL: a.PrivacyURL, ContactURL: a.ContactURL}
}

// departmentAt is the pure rule behind Department.
func departmentAt(d *config.DepartmentConfig, now time.Time) Department {
	out := Department{ID: d.ID, Name: d.Name, Description: d.Description,
		Open: d.Schedule.IsOpen(now), OfficeHours: d.Schedule.Summary()}
	if !out.Open {
		if next, ok := d.Schedule.NextOpening(now); ok {
			out.NextOpening = next
		}
	}
	return out
}
