package departments

import (
	"context"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// Availability says whether a department can answer a citizen right now.
type Availability struct {
	Department protocol.DepartmentID
	Name       string
	Open       bool
	// Available counts staff whose status is "available"; outside office
	// hours it is always 0.
	Available int
	Staff     int
	// NextOpening is when a closed department opens next (zero if it is
	// open, or never opens).
	NextOpening time.Time
}

// availabilityOf is the pure rule behind Availability.
func availabilityOf(d *config.DepartmentConfig, statuses map[id.UserID]store.StaffStatus, now time.Time) Availability {
	a := Availability{Department: d.ID, Name: d.Name, Staff: len(d.Staff), Open: d.Schedule.IsOpen(now)}
	if !a.Open {
		if next, ok := d.Schedule.NextOpening(now); ok {
			a.NextOpening = next
		}
		return a
	}
	for _, s := range d.Staff {
		if statuses[s.User] == store.StatusAvailable {
			a.Available++
		}
	}
	return a
}

// Availabilities returns the availability of every configured department,
// in config order (`!rathaus departments`).
func (s *Service) Availabilities(ctx context.Context, now time.Time) ([]Availability, error) {
	statuses, err := s.opts.Store.StaffStatuses(ctx)
	if err != nil {
		return nil, err
	}
	cfg := s.config()
	out := make([]Availability, 0, len(cfg.Departments))
	for i := range cfg.Departments {
		out = append(out, availabilityOf(&cfg.Departments[i], statuses, now))
	}
	return out, nil
}
