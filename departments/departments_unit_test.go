package departments

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/officehours"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

const unitConfig = `
homeserver:
  url: http://127.0.0.1:8008
  server_name: rathaus.test
appservice:
  as_token: as-token-for-the-unit-test-0000000000001
  hs_token: hs-token-for-the-unit-test-0000000000001
authority:
  name: Stadt Einheitshausen
  ags: "09162000"
guest_chat:
  enabled: false
departments:
  - id: bauamt
    name: Bauamt
    services: ["99108008000000"]
    office_hours:
      monday: ["08:00-12:00", "13:00-16:00"]
    staff:
      - user: "@anna:rathaus.test"
        role: admin
      - user: "@bernd:rathaus.test"
        role: caseworker
      - user: "@carol:nachbar.test"
        role: lead
  - id: standesamt
    name: Standesamt
    staff:
      - user: "@bernd:rathaus.test"
        role: lead
`

func unitCfg(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(unitConfig))
	require.NoError(t, err)
	return cfg
}

func TestAvailabilityOf(t *testing.T) {
	cfg := unitCfg(t)
	bauamt := cfg.Department("bauamt")
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	statuses := map[id.UserID]store.StaffStatus{
		"@anna:rathaus.test":  store.StatusAvailable,
		"@bernd:rathaus.test": store.StatusBusy,
		"@carol:nachbar.test": store.StatusAvailable,
	}
	for _, tc := range []struct {
		name string
		now  time.Time
		want Availability
	}{
		{"open monday morning", time.Date(2026, 11, 23, 9, 0, 0, 0, berlin),
			Availability{Department: "bauamt", Name: "Bauamt", Open: true, Available: 2, Staff: 3}},
		{"lunch break: nobody counts", time.Date(2026, 11, 23, 12, 30, 0, 0, berlin),
			Availability{Department: "bauamt", Name: "Bauamt", Staff: 3, NextOpening: time.Date(2026, 11, 23, 13, 0, 0, 0, berlin)}},
		{"sunday: next monday", time.Date(2026, 11, 22, 10, 0, 0, 0, berlin),
			Availability{Department: "bauamt", Name: "Bauamt", Staff: 3, NextOpening: time.Date(2026, 11, 23, 8, 0, 0, 0, berlin)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := availabilityOf(bauamt, statuses, tc.now)
			assert.True(t, tc.want.NextOpening.Equal(got.NextOpening), "next opening %s, want %s", got.NextOpening, tc.want.NextOpening)
			got.NextOpening, tc.want.NextOpening = time.Time{}, time.Time{}
			assert.Equal(t, tc.want, got)
		})
	}
	standesamt := availabilityOf(cfg.Department("standesamt"), statuses, time.Date(2026, 11, 23, 9, 0, 0, 0, berlin))
	assert.False(t, standesamt.Open)
	assert.True(t, standesamt.NextOpening.IsZero(), "no office hours: never opens")
}

func TestDesiredRooms(t *testing.T) {
	cfg := unitCfg(t)
	specs := desiredRooms(cfg)
	require.Len(t, specs, 5, "authority space, and a space and a staff room per department")
	byAlias := map[id.RoomAlias]roomSpec{}
	for _, s := range specs {
		byAlias[s.Alias] = s
	}
	authority := specs[0]
	assert.Equal(t, id.RoomAlias("#_rathaus_space:rathaus.test"), authority.Alias, "parents come first")
	assert.True(t, authority.IsSpace)
	assert.ElementsMatch(t, []id.UserID{"@anna:rathaus.test", "@bernd:rathaus.test", "@carol:nachbar.test"}, authority.Members)
	assert.Equal(t, map[id.UserID]int{"@rathaus:rathaus.test": 101, "@anna:rathaus.test": 100, "@bernd:rathaus.test": 75, "@carol:nachbar.test": 75},
		authority.Users, "the authority space gives each their highest role")
	assert.Equal(t, []roomRef{departmentSpaceRef("bauamt"), departmentSpaceRef("standesamt")}, authority.Children)

	staff := byAlias["#_rathaus_bauamt:rathaus.test"]
	assert.False(t, staff.IsSpace)
	assert.Equal(t, "Bauamt – Team", staff.Name)
	assert.Contains(t, staff.Topic, "Sprechzeiten: Mo 08:00–12:00, 13:00–16:00")
	assert.Equal(t, map[id.UserID]int{"@rathaus:rathaus.test": 101, "@anna:rathaus.test": 100, "@bernd:rathaus.test": 50, "@carol:nachbar.test": 75}, staff.Users)
	require.NotNil(t, staff.Parent)
	assert.Equal(t, departmentSpaceRef("bauamt"), *staff.Parent)
	require.Len(t, staff.State, 1)
	content := staff.State[0].Content.(*protocol.DepartmentContent)
	assert.Equal(t, protocol.RoomKindStaffRoom, content.Room)
	assert.Equal(t, []string{"99108008000000"}, content.Services)

	space := byAlias["#_rathaus_standesamt_space:rathaus.test"]
	assert.True(t, space.IsSpace)
	assert.Equal(t, []id.UserID{"@bernd:rathaus.test"}, space.Members)
	assert.Equal(t, 75, space.Users["@bernd:rathaus.test"])
	assert.Equal(t, []roomRef{staffRoomRef("standesamt")}, space.Children)
}

// TestAvailabilityLine: a closed department says when it opens the way
// staff read it, today or tomorrow with "Uhr", in its own zone.
func TestAvailabilityLine(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	sched := officehours.Schedule{Location: berlin}
	now := time.Date(2026, 11, 27, 18, 0, 0, 0, berlin) // a Friday evening
	for _, tc := range []struct {
		name string
		a    Availability
		want string
	}{
		{"open", Availability{Name: "Bauamt", Open: true, Available: 1, Staff: 3}, "• Bauamt: geöffnet, 1 von 3 verfügbar / open, 1 of 3 available"},
		{"no hours", Availability{Name: "Bauamt"}, "• Bauamt: geschlossen, keine Sprechzeiten / closed, no office hours"},
		{"tomorrow", Availability{Name: "Bauamt", NextOpening: time.Date(2026, 11, 28, 9, 0, 0, 0, berlin)},
			"• Bauamt: geschlossen, öffnet morgen, 9:00 Uhr / closed, opens tomorrow 9:00"},
		{"next week", Availability{Name: "Bauamt", NextOpening: time.Date(2026, 11, 30, 8, 30, 0, 0, berlin).UTC()},
			"• Bauamt: geschlossen, öffnet Mo 30.11., 8:30 Uhr / closed, opens Mon 30 Nov 8:30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, availabilityLine(tc.a, sched, now))
		})
	}
}
