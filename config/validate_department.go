package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/officehours"
	"github.com/rathaus-de/rathaus/protocol"
)

// Limits for department texts, in characters.
const (
	MaxDepartmentNameLength        = 80
	MaxDepartmentDescriptionLength = 500
)

// departmentIDRegex: a slug that fits in room aliases; no "_", so that the
// aliases derived from ids ("<id>_space") cannot collide.
var departmentIDRegex = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// leikaKeyRegex matches a LeiKa key (Leistungsschlüssel): 14 digits.
var leikaKeyRegex = regexp.MustCompile(`^[0-9]{14}$`)

// referencePrefixRegex: what starts a case reference (Aktenzeichen).
var referencePrefixRegex = regexp.MustCompile(`^[A-Z][A-Z0-9]{1,7}$`)

// weekdays maps the office_hours keys to weekdays, Monday first.
var weekdays = []time.Weekday{
	time.Monday, time.Tuesday, time.Wednesday, time.Thursday,
	time.Friday, time.Saturday, time.Sunday,
}

func (c *Config) validateDepartments(errs *ValidationErrors) {
	ids := make(map[protocol.DepartmentID]string)
	services := make(map[string]string)
	prefixes := make(map[string]string)
	for i := range c.Departments {
		d := &c.Departments[i]
		key := fmt.Sprintf("departments[%d]", i)

		idDuplicate := false
		switch {
		case d.ID == "":
			errs.add(key+".id", "required; a short slug such as \"bauamt\"")
		case !departmentIDRegex.MatchString(string(d.ID)):
			errs.add(key+".id", fmt.Sprintf("%q must be 1 to 32 of a-z, 0-9 and \"-\", starting with a letter or digit", d.ID))
		case d.ID == ReservedDepartmentID:
			errs.add(key+".id", fmt.Sprintf("%q is reserved; choose another id", d.ID))
		default:
			if first, dup := ids[d.ID]; dup {
				idDuplicate = true
				errs.add(key+".id", fmt.Sprintf("duplicate id %q (also %s)", d.ID, first))
			} else {
				ids[d.ID] = key
			}
		}

		name := strings.TrimSpace(d.Name)
		if name == "" {
			errs.add(key+".name", "required; the department's name as citizens know it, e.g. \"Bauamt\"")
		} else if n := utf8.RuneCountInString(name); n > MaxDepartmentNameLength {
			errs.add(key+".name", fmt.Sprintf("is %d characters long; at most %d", n, MaxDepartmentNameLength))
		}
		if n := utf8.RuneCountInString(d.Description); n > MaxDepartmentDescriptionLength {
			errs.add(key+".description", fmt.Sprintf("is %d characters long; at most %d", n, MaxDepartmentDescriptionLength))
		}
		if d.ReferencePrefix == "" {
			d.ReferencePrefix = defaultReferencePrefix(d.ID) // "" only if the id is unusable, reported above
		}
		if d.ReferencePrefix == "" {
			// nothing more to say
		} else if !referencePrefixRegex.MatchString(d.ReferencePrefix) {
			errs.add(key+".reference_prefix", fmt.Sprintf("%q must be 2 to 8 of A-Z and 0-9, starting with a letter; set reference_prefix", d.ReferencePrefix))
		} else if first, dup := prefixes[d.ReferencePrefix]; dup && !idDuplicate { // one problem is enough
			errs.add(key+".reference_prefix", fmt.Sprintf("%q is already used by %s; case references must be unique", d.ReferencePrefix, first))
		} else {
			prefixes[d.ReferencePrefix] = key
		}

		municipalities := checkMunicipalities(errs, key+".municipalities", d.Municipalities)
		for j, s := range d.Services {
			skey := fmt.Sprintf("%s.services[%d]", key, j)
			if !leikaKeyRegex.MatchString(s) {
				errs.add(skey, fmt.Sprintf("%q is not a LeiKa key (14 digits)", s))
				continue
			}
			// A key routes to one department per municipality: each
			// (key, ARS prefix) pair once, and at most one department
			// without municipalities per key.
			for _, m := range municipalities {
				route := s + "@" + m
				switch first, dup := services[route]; {
				case dup && m == "":
					errs.add(skey, fmt.Sprintf("%q is already listed at %s; a service routes citizens to one department only "+
						"(departments that serve different municipalities list them under municipalities)", s, first))
				case dup:
					errs.add(skey, fmt.Sprintf("%q for the municipality %q is already listed at %s; a service routes citizens to one department only", s, m, first))
				default:
					services[route] = skey
				}
			}
		}

		d.Schedule = officehours.Schedule{
			Location: checkTimeZone(errs, key+".time_zone", d.TimeZone),
			Weekly:   checkOfficeHours(errs, key+".office_hours", d.OfficeHours),
			Closed:   checkClosedDates(errs, key+".closed_dates", d.ClosedDates),
		}
		c.validateStaff(errs, key, d.Staff)
	}
}

// checkTimeZone loads an IANA zone; nil if it cannot.
func checkTimeZone(errs *ValidationErrors, key, name string) *time.Location {
	switch name {
	case "":
		errs.add(key, fmt.Sprintf("must not be empty; leave it out for %s", DefaultTimeZone))
		return nil
	case "Local":
		errs.add(key, fmt.Sprintf("\"Local\" depends on the host; name the zone, e.g. %s", DefaultTimeZone))
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		errs.add(key, fmt.Sprintf("%q is not a known IANA time zone; e.g. %s", name, DefaultTimeZone))
		return nil
	}
	return loc
}

// checkOfficeHours parses the weekday → ranges map, reporting unknown
// weekdays, bad ranges and overlaps. It goes Monday to Sunday, then unknown
// keys alphabetically, so the order of problems is stable.
func checkOfficeHours(errs *ValidationErrors, key string, hours map[string][]string) [7][]officehours.Range {
	var weekly [7][]officehours.Range
	for _, wd := range weekdays {
		name := officehours.WeekdayName(wd)
		dayKey := key + "." + name
		var ranges []officehours.Range
		for j, s := range hours[name] {
			r, err := officehours.ParseRange(s)
			if err != nil {
				errs.add(fmt.Sprintf("%s[%d]", dayKey, j), err.Error())
				continue
			}
			ranges = append(ranges, r)
		}
		slices.SortFunc(ranges, func(a, b officehours.Range) int {
			if a.Start != b.Start {
				return a.Start - b.Start
			}
			return a.End - b.End
		})
		for _, o := range officehours.DayOverlaps(ranges) {
			errs.add(dayKey, o)
		}
		weekly[wd] = ranges
	}
	var unknown []string
	for name := range hours {
		if !slices.ContainsFunc(weekdays, func(wd time.Weekday) bool { return officehours.WeekdayName(wd) == name }) {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		errs.add(key+"."+name, "unknown weekday; use monday, tuesday, wednesday, thursday, friday, saturday or sunday")
	}
	return weekly
}

func checkClosedDates(errs *ValidationErrors, key string, dates []string) []officehours.DateRange {
	var closed []officehours.DateRange
	for j, s := range dates {
		r, err := officehours.ParseDateRange(s)
		if err != nil {
			errs.add(fmt.Sprintf("%s[%d]", key, j), err.Error())
			continue
		}
		closed = append(closed, r)
	}
	return closed
}

func (c *Config) validateStaff(errs *ValidationErrors, depKey string, staff []StaffConfig) {
	users := make(map[id.UserID]string)
	for j, s := range staff {
		key := fmt.Sprintf("%s.staff[%d]", depKey, j)
		if msg := c.checkStaffUser(s.User); msg != "" {
			errs.add(key+".user", msg)
		} else if first, dup := users[s.User]; dup {
			errs.add(key+".user", fmt.Sprintf("duplicate user %q (also %s)", s.User, first))
		} else {
			users[s.User] = key
		}
		if !s.Role.Valid() {
			errs.add(key+".role", fmt.Sprintf("%q is not one of caseworker, lead, admin", s.Role))
		}
		if s.MaxCases < 1 {
			errs.add(key+".max_cases", fmt.Sprintf("%d must be at least 1", s.MaxCases))
		}
	}
}

// checkStaffUser returns a message unless u is a person's user ID on any
// homeserver. Historical localparts (upper case and other visible ASCII) are
// accepted: long-standing accounts on other servers may have them.
func (c *Config) checkStaffUser(u id.UserID) string {
	if u == "" {
		return "required; a Matrix user ID such as @anna:your-town.de"
	}
	localpart, server, err := u.ParseAndValidateRelaxed()
	if err != nil || localpart == "" || !isVisibleASCII(localpart) {
		return fmt.Sprintf("%q is not a valid Matrix user ID (@localpart:server.name)", u)
	}
	if u == c.BotUserID() {
		return fmt.Sprintf("%q is rathaus's own bot; list people only", u)
	}
	if c.IsOurUser(u) {
		return fmt.Sprintf("%q lies in rathaus's ghost namespace; list people only", u)
	}
	// The example's staff are placeholders like its server name: nobody
	// can be invited on a documentation domain, on any server.
	if isExampleServerName(server) {
		return fmt.Sprintf("still the placeholder %q; set the Matrix ID of a real staff member, e.g. @anna:your-town.de", u)
	}
	return ""
}

func isVisibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// arsPrefixLengths are the lengths of an ARS's levels: Land, Regierungs-
// bezirk, Kreis, Gemeindeverband, Gemeinde.
var arsPrefixLengths = []int{2, 3, 5, 9, 12}

// checkMunicipalities checks a department's municipalities and returns the
// routing keys of its services: the valid prefixes, or [""] for a
// department without municipalities.
func checkMunicipalities(errs *ValidationErrors, key string, municipalities []string) []string {
	if len(municipalities) == 0 {
		return []string{""}
	}
	seen := make(map[string]bool, len(municipalities))
	var out []string
	for i, m := range municipalities {
		mkey := fmt.Sprintf("%s[%d]", key, i)
		switch {
		case !isDigits(m) || !slices.Contains(arsPrefixLengths, len(m)):
			errs.add(mkey, fmt.Sprintf("%q must be an ARS or its prefix: 2, 3, 5, 9 or 12 digits, e.g. \"081110000000\" (quote it, so a leading 0 is kept)", m))
		case m[:2] < "01" || m[:2] > "16":
			errs.add(mkey, fmt.Sprintf("%q must start with a Land code from 01 to 16", m))
		case seen[m]:
			errs.add(mkey, fmt.Sprintf("%q is listed twice", m))
		default:
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}
