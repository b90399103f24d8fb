package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/officehours"
	"github.com/rathaus-de/rathaus/protocol"
)

// twoDepartments is a valid departments section for overlaying onto
// minimalYAML; tests break one thing in it at a time.
const twoDepartments = `
departments:
  - id: bauamt
    name: Bauamt
    services: ["99108008000000", "99108011000000"]
    office_hours:
      monday: ["08:00-12:00", "13:00-15:30"]
      thursday: ["08:00-18:00"]
    closed_dates: ["2026-12-24", "2026-12-31..2027-01-01"]
    staff:
      - user: "@anna:bad-beispielheim.de"
        role: lead
      - user: "@ben:bad-beispielheim.de"
  - id: buergerbuero
    name: Bürgerbüro
    services: ["99102001000000"]
    time_zone: America/New_York
    staff:
      - user: "@carla:nachbarort.de"
        role: admin
        max_cases: 3
      - user: "@anna:bad-beispielheim.de"
`

// withDepartments returns minimalYAML with twoDepartments, after replacing
// the first occurrence of each old text with its new text.
func withDepartments(t *testing.T, oldNew ...string) string {
	t.Helper()
	s := twoDepartments
	for i := 0; i+1 < len(oldNew); i += 2 {
		require.Contains(t, s, oldNew[i])
		s = strings.Replace(s, oldNew[i], oldNew[i+1], 1)
	}
	return minimalYAML + s
}

// The acceptance case: three different mistakes in the departments are all
// reported, each under its own dotted key.
func TestValidateNamesEveryDepartmentMistake(t *testing.T) {
	_, ve := validationErrors(t, withDepartments(t,
		`services: ["99108008000000", "99108011000000"]`, `services: ["99108008000000", "99108011000000", "123"]`,
		`monday: ["08:00-12:00", "13:00-15:30"]`, `monday: ["08:00-12:00", "11:00-14:00"]`,
		"id: buergerbuero", "id: bauamt",
	))
	assert.ElementsMatch(t, []string{
		"departments[0].services[2]",
		"departments[0].office_hours.monday",
		"departments[1].id",
	}, ve.Keys(), "errors: %v", ve)
	assert.Contains(t, ve.Error(), `departments[0].services[2]: "123" is not a LeiKa key (14 digits)`)
	assert.Contains(t, ve.Error(), `departments[0].office_hours.monday: 08:00–12:00 overlaps 11:00–14:00`)
	assert.Contains(t, ve.Error(), `departments[1].id: duplicate id "bauamt" (also departments[0])`)
}

func TestValidDepartments(t *testing.T) {
	cfg := mustParse(t, withDepartments(t))
	require.Len(t, cfg.Departments, 2)
	bau, bb := cfg.Departments[0], cfg.Departments[1]

	assert.Equal(t, protocol.DepartmentID("bauamt"), bau.ID)
	assert.Equal(t, DefaultTimeZone, bau.TimeZone, "time_zone defaults to Europe/Berlin")
	assert.Equal(t, RoleLead, bau.Staff[0].Role)
	assert.Equal(t, DefaultMaxCases, bau.Staff[0].MaxCases, "max_cases defaults to 5")
	assert.Equal(t, RoleCaseworker, bau.Staff[1].Role, "role defaults to caseworker")
	assert.Equal(t, 3, bb.Staff[0].MaxCases)

	// Validate filled the parsed schedule.
	require.NotNil(t, bau.Schedule.Location)
	assert.Equal(t, "Europe/Berlin", bau.Schedule.Location.String())
	assert.Equal(t, []officehours.Range{{Start: 480, End: 720}, {Start: 780, End: 930}}, bau.Schedule.Weekly[time.Monday])
	assert.Equal(t, "Mo 08:00–12:00, 13:00–15:30 · Do 08:00–18:00", bau.Schedule.Summary())
	assert.Len(t, bau.Schedule.Closed, 2)
	assert.True(t, bau.Schedule.IsOpen(time.Date(2026, time.June, 15, 6, 30, 0, 0, time.UTC)), "Monday 08:30 in Berlin")
	assert.False(t, bau.Schedule.IsOpen(time.Date(2026, time.December, 31, 9, 0, 0, 0, time.UTC)), "closed date")
	assert.Equal(t, "America/New_York", bb.Schedule.Location.String())
	assert.Equal(t, officehours.NoOfficeHours, bb.Schedule.Summary())
}

func TestValidateSortsOfficeHours(t *testing.T) {
	cfg := mustParse(t, withDepartments(t, `"08:00-12:00", "13:00-15:30"`, `"13:00-15:30", "08:00-12:00"`))
	assert.Equal(t, []officehours.Range{{Start: 480, End: 720}, {Start: 780, End: 930}}, cfg.Departments[0].Schedule.Weekly[time.Monday])
}

func TestDepartmentSingleMistakes(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		key, msg string
	}{
		{"id missing", "  - id: bauamt\n    name", "  - name", "departments[0].id", "required"},
		{"id with underscore", "id: bauamt", "id: bau_amt", "departments[0].id", "a-z, 0-9"},
		{"id upper case", "id: bauamt", "id: Bauamt", "departments[0].id", "a-z, 0-9"},
		{"id starting with a dash", "id: bauamt", "id: -bauamt", "departments[0].id", "starting with"},
		{"id too long", "id: bauamt", "id: " + strings.Repeat("a", 33), "departments[0].id", "1 to 32"},
		{"id reserved", "id: buergerbuero", "id: space", "departments[1].id", "reserved"},
		{"duplicate id", "id: buergerbuero", "id: bauamt", "departments[1].id", `duplicate id "bauamt" (also departments[0])`},
		{"name missing", "name: Bürgerbüro", "name: ' '", "departments[1].name", "required"},
		{"name too long", "name: Bauamt", "name: " + strings.Repeat("ä", 81), "departments[0].name", "81 characters"},
		{"reference prefix lower case", "name: Bauamt", "name: Bauamt\n    reference_prefix: bau", "departments[0].reference_prefix", "2 to 8 of A-Z"},
		{"reference prefix twice", "name: Bürgerbüro", "name: Bürgerbüro\n    reference_prefix: BAU", "departments[1].reference_prefix", `"BAU" is already used by departments[0]`},
		{"derived reference prefix unusable", "id: bauamt", "id: 1-2", "departments[0].reference_prefix", "set reference_prefix"},
		{"description too long", "name: Bauamt", "name: Bauamt\n    description: " + strings.Repeat("x", 501), "departments[0].description", "at most 500"},
		{"service too short", `"99108011000000"]`, `"9910801100000"]`, "departments[0].services[1]", `"9910801100000" is not a LeiKa key (14 digits)`},
		{"service with letters", `"99108011000000"]`, `"9910801100000a"]`, "departments[0].services[1]", "not a LeiKa key"},
		{"service in two departments", `["99102001000000"]`, `["99108011000000"]`, "departments[1].services[0]", "already listed at departments[0].services[1]"},
		{"municipality not an ARS prefix", `["99102001000000"]`, "[\"99102001000000\"]\n    municipalities: [\"0811\"]", "departments[1].municipalities[0]", "2, 3, 5, 9 or 12 digits"},
		{"municipality outside the Länder", `["99102001000000"]`, "[\"99102001000000\"]\n    municipalities: [\"17\"]", "departments[1].municipalities[0]", "Land code"},
		{"municipality twice", `["99102001000000"]`, "[\"99102001000000\"]\n    municipalities: [\"08111\", \"08111\"]", "departments[1].municipalities[1]", "listed twice"},
		{"service twice in one department", `"99108011000000"]`, `"99108008000000"]`, "departments[0].services[1]", "already listed at departments[0].services[0]"},
		{"unknown time zone", "America/New_York", "Europe/Berln", "departments[1].time_zone", `"Europe/Berln" is not a known IANA time zone`},
		{"local time zone", "America/New_York", "Local", "departments[1].time_zone", "depends on the host"},
		{"overlap", `"13:00-15:30"]`, `"11:00-14:00"]`, "departments[0].office_hours.monday", "08:00–12:00 overlaps 11:00–14:00"},
		{"adjacent is fine, but a bad range is not", `"13:00-15:30"]`, `"12:00-13:00", "8:00-12:00"]`, "departments[0].office_hours.monday[2]", `"8:00-12:00"`},
		{"range backwards", `["08:00-18:00"]`, `["18:00-08:00"]`, "departments[0].office_hours.thursday[0]", "after the start"},
		{"range starting at 24:00", `["08:00-18:00"]`, `["24:00-24:00"]`, "departments[0].office_hours.thursday[0]", "only as the end"},
		{"unknown weekday", "thursday:", "donnerstag:", "departments[0].office_hours.donnerstag", "unknown weekday"},
		{"capitalised weekday", "thursday:", "Thursday:", "departments[0].office_hours.Thursday", "unknown weekday"},
		{"weekday twice", "thursday:", "monday:", "departments[0].office_hours.monday", "duplicate key"},
		{"weekday not a list", `thursday: ["08:00-18:00"]`, `thursday: "08:00-18:00"`, "departments[0].office_hours.thursday", "must be a list"},
		{"office hours not a mapping", "office_hours:\n      monday: [\"08:00-12:00\", \"13:00-15:30\"]\n      thursday: [\"08:00-18:00\"]", `office_hours: ["08:00-12:00"]`, "departments[0].office_hours", "must be a mapping"},
		{"closed date that does not exist", `"2026-12-24"`, `"2026-02-30"`, "departments[0].closed_dates[0]", "YYYY-MM-DD"},
		{"closed dates backwards", `"2026-12-31..2027-01-01"`, `"2027-01-01..2026-12-31"`, "departments[0].closed_dates[1]", "ends before it starts"},
		{"closed dates German style", `"2026-12-24"`, `"24.12.2026"`, "departments[0].closed_dates[0]", "YYYY-MM-DD"},
		{"staff user missing", `- user: "@ben:bad-beispielheim.de"`, "- role: lead", "departments[0].staff[1].user", "required"},
		{"staff user without server", `"@ben:bad-beispielheim.de"`, `"@ben"`, "departments[0].staff[1].user", "not a valid Matrix user ID"},
		{"staff user without sigil", `"@ben:bad-beispielheim.de"`, `"ben:bad-beispielheim.de"`, "departments[0].staff[1].user", "not a valid Matrix user ID"},
		{"staff user with bad server", `"@ben:bad-beispielheim.de"`, `"@ben:bad beispielheim"`, "departments[0].staff[1].user", "not a valid Matrix user ID"},
		{"staff user with a space", `"@ben:bad-beispielheim.de"`, `"@b en:bad-beispielheim.de"`, "departments[0].staff[1].user", "not a valid Matrix user ID"},
		{"staff user is the bot", `"@ben:bad-beispielheim.de"`, `"@rathaus:bad-beispielheim.de"`, "departments[0].staff[1].user", "own bot"},
		{"staff user is a ghost", `"@ben:bad-beispielheim.de"`, `"@_rathaus_guest_1:bad-beispielheim.de"`, "departments[0].staff[1].user", "ghost namespace"},
		{"staff user on the example's server", `"@ben:bad-beispielheim.de"`, `"@ben:stadt.example"`, "departments[0].staff[1].user", `still the placeholder "@ben:stadt.example"`},
		{"staff user on another example server", `"@carla:nachbarort.de"`, `"@emil:nachbargemeinde.example"`, "departments[1].staff[0].user", `still the placeholder "@emil:nachbargemeinde.example"`},
		{"staff user on an example server with a port", `"@carla:nachbarort.de"`, `"@carla:stadt.example:8448"`, "departments[1].staff[0].user", "placeholder"},
		{"staff user on example.org", `"@carla:nachbarort.de"`, `"@carla:matrix.example.org"`, "departments[1].staff[0].user", "placeholder"},
		{"staff user twice", `"@ben:bad-beispielheim.de"`, `"@anna:bad-beispielheim.de"`, "departments[0].staff[1].user", `duplicate user "@anna:bad-beispielheim.de" (also departments[0].staff[0])`},
		{"invalid role", "role: lead", "role: boss", "departments[0].staff[0].role", `"boss" is not one of caseworker, lead, admin`},
		{"empty role", "role: lead", "role: ''", "departments[0].staff[0].role", "not one of"},
		{"max_cases zero", "max_cases: 3", "max_cases: 0", "departments[1].staff[0].max_cases", "at least 1"},
		{"max_cases negative", "max_cases: 3", "max_cases: -2", "departments[1].staff[0].max_cases", "at least 1"},
		{"max_cases not a number", "max_cases: 3", "max_cases: many", "departments[1].staff[0].max_cases", "whole number"},
		{"unknown department key", "name: Bauamt", "name: Bauamt\n    colour: red", "departments[0].colour", "unknown key"},
		{"unknown staff key", "role: lead", "role: lead\n        mood: good", "departments[0].staff[0].mood", "unknown key"},
		{"staff not a list", "staff:\n      - user: \"@carla:nachbarort.de\"\n        role: admin\n        max_cases: 3\n      - user: \"@anna:bad-beispielheim.de\"", "staff: \"@carla:nachbarort.de\"", "departments[1].staff", "must be a list"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ve := validationErrors(t, withDepartments(t, tc.old, tc.new))
			require.Len(t, ve, 1, "errors: %v", ve)
			assert.Equal(t, tc.key, ve[0].Key)
			assert.Contains(t, ve[0].Message, tc.msg)
		})
	}
}

func TestDepartmentsNotAList(t *testing.T) {
	_, ve := validationErrors(t, minimalYAML+"departments:\n  bauamt: {name: Bauamt}\n")
	assert.Equal(t, []string{"departments"}, ve.Keys(), "errors: %v", ve)
	assert.Contains(t, ve[0].Message, "must be a list")
}

func TestEmptyDepartmentsAreFine(t *testing.T) {
	for _, s := range []string{"departments: []\n", "departments:\n"} {
		cfg := mustParse(t, minimalYAML+s)
		assert.Empty(t, cfg.Departments)
	}
}

// Validate fills the schedule also for a config built in Go.
func TestValidateFillsScheduleOfGoConfig(t *testing.T) {
	cfg := mustParse(t, minimalYAML)
	cfg.Departments = []DepartmentConfig{{
		ID: "bauamt", Name: "Bauamt", TimeZone: "Asia/Tokyo",
		OfficeHours: map[string][]string{"friday": {"09:00-17:00"}},
		ClosedDates: []string{"2026-12-24"},
		Staff:       []StaffConfig{{User: "@anna:bad-beispielheim.de", Role: RoleAdmin, MaxCases: 1}},
	}}
	require.NoError(t, cfg.Validate())
	s := cfg.Departments[0].Schedule
	assert.Equal(t, "Asia/Tokyo", s.Location.String())
	assert.Equal(t, "Fr 09:00–17:00", s.Summary())
	assert.Equal(t, []officehours.DateRange{{From: officehours.Date{Year: 2026, Month: time.December, Day: 24}, To: officehours.Date{Year: 2026, Month: time.December, Day: 24}}}, s.Closed)

	cfg.Departments[0].TimeZone = ""
	cfg.Departments[0].Staff[0].MaxCases = 0
	var ve ValidationErrors
	require.ErrorAs(t, cfg.Validate(), &ve)
	assert.Equal(t, []string{"departments[0].time_zone", "departments[0].staff[0].max_cases"}, ve.Keys())
}

func TestDepartmentHelpers(t *testing.T) {
	cfg := mustParse(t, withDepartments(t))
	anna := id.UserID("@anna:bad-beispielheim.de")
	carla := id.UserID("@carla:nachbarort.de")
	stranger := id.UserID("@zoe:bad-beispielheim.de")

	require.NotNil(t, cfg.Department("bauamt"))
	assert.Equal(t, "Bauamt", cfg.Department("bauamt").Name)
	assert.Same(t, &cfg.Departments[1], cfg.Department("buergerbuero"))
	assert.Nil(t, cfg.Department("standesamt"))

	assert.Same(t, &cfg.Departments[0], cfg.DepartmentForService("99108011000000"))
	assert.Same(t, &cfg.Departments[1], cfg.DepartmentForService("99102001000000"))
	assert.Nil(t, cfg.DepartmentForService("99999999999999"))

	assert.True(t, cfg.IsStaff(anna))
	assert.True(t, cfg.IsStaff(carla))
	assert.False(t, cfg.IsStaff(stranger))
	assert.False(t, cfg.IsStaff(cfg.BotUserID()))

	assert.True(t, cfg.IsAdmin(carla))
	assert.False(t, cfg.IsAdmin(anna), "lead and caseworker are not admin")
	assert.False(t, cfg.IsAdmin(stranger))

	assert.Equal(t, []protocol.DepartmentID{"bauamt", "buergerbuero"}, cfg.DepartmentsOf(anna))
	assert.Equal(t, []protocol.DepartmentID{"buergerbuero"}, cfg.DepartmentsOf(carla))
	assert.Nil(t, cfg.DepartmentsOf(stranger))

	m := cfg.Department("buergerbuero").Member(anna)
	require.NotNil(t, m)
	assert.Equal(t, RoleCaseworker, m.Role)
	assert.Nil(t, cfg.Department("bauamt").Member(carla))
}

func TestRoles(t *testing.T) {
	tests := []struct {
		role  Role
		valid bool
		level int
	}{
		{RoleCaseworker, true, 50},
		{RoleLead, true, 75},
		{RoleAdmin, true, 100},
		{"boss", false, 0},
		{"", false, 0},
	}
	for _, tc := range tests {
		t.Run(string(tc.role), func(t *testing.T) {
			assert.Equal(t, tc.valid, tc.role.Valid())
			assert.Equal(t, tc.level, tc.role.PowerLevel())
		})
	}
	assert.Greater(t, BotPowerLevel, RoleAdmin.PowerLevel(), "the bot must outrank admins to demote or remove them")
}

func TestReferencePrefixDefault(t *testing.T) {
	for id, want := range map[protocol.DepartmentID]string{"bauamt": "BAU", "buergerbuero": "BUE", "ordnungs-amt": "ORD", "a-b-c-d": "ABC"} {
		assert.Equal(t, want, defaultReferencePrefix(id), id)
	}
}

// An authority serving several municipalities lists a service in several
// departments, told apart by ARS prefixes: the longest matching prefix
// wins, a department without municipalities takes the other citizens.
func TestDepartmentMunicipalities(t *testing.T) {
	cfg := mustParse(t, withDepartments(t, `services: ["99102001000000"]`,
		"services: [\"99102001000000\", \"99108011000000\"]\n    municipalities: [\"08111\", \"081110000042\"]"))
	bauamt, buero := &cfg.Departments[0], &cfg.Departments[1]
	assert.Same(t, buero, cfg.DepartmentForServiceIn("99108011000000", "081110000000"), "Kreis prefix")
	assert.Same(t, buero, cfg.DepartmentForServiceIn("99108011000000", "081110000042"), "Gemeinde")
	assert.Same(t, bauamt, cfg.DepartmentForServiceIn("99108011000000", "091620000000"), "another Kreis: the department without municipalities")
	assert.Same(t, bauamt, cfg.DepartmentForServiceIn("99108011000000", ""), "no ARS: the department without municipalities")
	assert.Same(t, bauamt, cfg.DepartmentForService("99108011000000"))
	assert.Same(t, buero, cfg.DepartmentForServiceIn("99102001000000", "091620000000"), "the only department with the key, though for other municipalities")
	assert.Nil(t, cfg.DepartmentForServiceIn("99999999999999", "081110000000"))

	// The longer prefix wins over the shorter one of another department.
	cfg = mustParse(t, withDepartments(t, `services: ["99108008000000", "99108011000000"]`,
		"services: [\"99108008000000\", \"99108011000000\"]\n    municipalities: [\"08\"]",
		`services: ["99102001000000"]`, "services: [\"99102001000000\", \"99108011000000\"]\n    municipalities: [\"081110000042\"]"))
	assert.Same(t, &cfg.Departments[1], cfg.DepartmentForServiceIn("99108011000000", "081110000042"))
	assert.Same(t, &cfg.Departments[0], cfg.DepartmentForServiceIn("99108011000000", "081110000043"))
	assert.Same(t, &cfg.Departments[0], cfg.DepartmentForServiceIn("99108011000000", ""), "no department without municipalities: the first")

	// One department per service and municipality.
	_, ve := validationErrors(t, withDepartments(t, `services: ["99108008000000", "99108011000000"]`,
		"services: [\"99108008000000\", \"99108011000000\"]\n    municipalities: [\"08111\"]",
		`services: ["99102001000000"]`, "services: [\"99108011000000\"]\n    municipalities: [\"08111\"]"))
	assert.Equal(t, []string{"departments[1].services[0]"}, ve.Keys())
	assert.Contains(t, ve.Error(), `"99108011000000" for the municipality "08111" is already listed at departments[0].services[1]`)
}
