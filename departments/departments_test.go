package departments_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/internal/app/apptest"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// countingTransport records the homeserver requests rathaus makes.
type countingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []string
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.reqs = append(c.reqs, r.Method+" "+r.URL.Path)
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

// writes returns the requests that change something on Matrix.
func (c *countingTransport) writes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.reqs {
		if strings.HasPrefix(r, "GET ") {
			continue
		}
		out = append(out, r)
	}
	return out
}

func (c *countingTransport) reset() {
	c.mu.Lock()
	c.reqs = nil
	c.mu.Unlock()
}

const officeHoursYAML = `    time_zone: Europe/Berlin
    office_hours:
      monday: ["08:00-12:00", "13:00-15:30"]
      thursday: ["08:00-18:00"]
    closed_dates: ["2026-12-24"]
`

func departmentsYAML(bauamtName string, bauamt, buergerbuero string) string {
	out := "departments:\n  - id: bauamt\n    name: " + bauamtName + "\n    description: Bauanträge und Baugenehmigungen\n" +
		"    services: [\"99108008000000\"]\n" + officeHoursYAML + "    staff:\n" + bauamt
	if buergerbuero != "" {
		out += "  - id: buergerbuero\n    name: Bürgerbüro\n    services: [\"99102001000000\"]\n" + officeHoursYAML + "    staff:\n" + buergerbuero
	}
	return out
}

func staffYAML(u id.UserID, role string) string {
	return fmt.Sprintf("      - user: %q\n        role: %s\n", u, role)
}

// TestDepartments covers the reconciliation acceptance: rooms exactly as
// configured (read back by staff, one of them on a federated server), a
// second run that changes nothing, a changed config (rename, move, role,
// removal) and permissions of !rathaus sync; on Dendrite, on Synapse, and
// on Synapse with room version 12, where the bot creates the rooms and so
// is not listed in their power levels.
func TestDepartments(t *testing.T) {
	apptest.EachVariant(t, func(t *testing.T, v apptest.Variant) { departmentsConverge(t, v) })
}

func departmentsConverge(t *testing.T, v apptest.Variant) {
	t.Helper()
	ctx := context.Background()
	users := map[string]apptest.StaffUser{}
	opts := apptest.Options{Homeservers: apptest.Homeservers(v.Kind, 2), RoomVersion: v.RoomVersion}
	opts.Configure = func(hss []*tesths.Homeserver) string {
		for _, hs := range hss {
			if len(hs.Appservices) == 0 {
				cli, uid, _ := hs.RegisterUser(t, "carol", false)
				users["carol"] = apptest.StaffUser{Cli: cli, ID: uid}
			}
		}
		for _, hs := range hss {
			if len(hs.Appservices) > 0 {
				for _, name := range []string{"anna", "bernd", "dora"} {
					cli, uid, _ := hs.RegisterUser(t, name, false)
					users[name] = apptest.StaffUser{Cli: cli, ID: uid}
				}
			}
		}
		return departmentsYAML("Bauamt",
			staffYAML(users["anna"].ID, "admin")+staffYAML(users["bernd"].ID, "caseworker")+staffYAML(users["carol"].ID, "lead"),
			staffYAML(users["dora"].ID, "caseworker"))
	}
	env, hss := apptest.Launch(t, opts)
	require.Len(t, hss, 2)
	bot := env.Cfg.BotUserID()
	// levels are the expected users map: the bot at 101, unless the room
	// version makes it, the creator, unlimited and unlisted.
	levels := func(users map[id.UserID]int) map[id.UserID]int {
		if v.RoomVersion == "12" {
			delete(users, bot)
		} else {
			users[bot] = 101
		}
		return users
	}
	var created event.CreateEventContent
	require.NoError(t, env.App.AppService().BotClient().StateEvent(ctx, resolveRoom(t, env, "_rathaus_space"), event.StateCreate, "", &created))
	assert.Equal(t, id.RoomVersion(v.RoomVersionOrDefault()), created.RoomVersion, "rooms get the homeserver's default version")
	counter := &countingTransport{next: http.DefaultTransport}
	env.App.AppService().HTTPClient.Transport = counter

	anna, carol, dora := users["anna"], users["carol"], users["dora"]
	resolve := func(u apptest.StaffUser, localpart string) id.RoomID {
		alias := id.NewRoomAlias(localpart, env.Cfg.Homeserver.ServerName)
		resp, err := u.Cli.ResolveAlias(ctx, alias)
		require.NoError(t, err, "resolve %s", alias)
		return resp.RoomID
	}
	authority := resolve(anna, "_rathaus_space")
	bauSpace, bauStaff := resolve(anna, "_rathaus_bauamt_space"), resolve(anna, "_rathaus_bauamt")
	bbSpace, bbStaff := resolve(anna, "_rathaus_buergerbuero_space"), resolve(anna, "_rathaus_buergerbuero")

	join := func(u apptest.StaffUser, rooms ...id.RoomID) {
		for _, room := range rooms {
			tesths.WaitFor(t, 60*time.Second, fmt.Sprintf("%s to join %s", u.ID, room), func() error {
				_, err := u.Cli.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{env.Cfg.Homeserver.ServerName}})
				return err
			})
		}
	}
	join(anna, authority, bauSpace, bauStaff)
	join(carol, authority, bauSpace, bauStaff)
	join(dora, authority, bbSpace, bbStaff)

	// 1. Everything exactly as configured, read through staff clients.
	var create event.CreateEventContent
	require.NoError(t, anna.Cli.StateEvent(ctx, bauSpace, event.StateCreate, "", &create))
	assert.Equal(t, event.RoomTypeSpace, create.Type)
	var auth protocol.AuthorityContent
	require.NoError(t, anna.Cli.StateEvent(ctx, authority, protocol.AuthorityEventType, "", &auth))
	assert.Equal(t, "Stadt Prüfheim", auth.Name)
	assert.Equal(t, "09162000", auth.AGS)
	var dept protocol.DepartmentContent
	require.NoError(t, carol.Cli.StateEvent(ctx, bauStaff, protocol.DepartmentEventType, "", &dept), "read over federation")
	assert.Equal(t, protocol.DepartmentID("bauamt"), dept.ID)
	assert.Equal(t, protocol.RoomKindStaffRoom, dept.Room)
	assert.Equal(t, []string{"99108008000000"}, dept.Services)
	var topic event.TopicEventContent
	require.NoError(t, anna.Cli.StateEvent(ctx, bauStaff, event.StateTopic, "", &topic))
	assert.Contains(t, topic.Topic, "Sprechzeiten")
	assert.Contains(t, topic.Topic, "08:00")
	var canonical event.CanonicalAliasEventContent
	require.NoError(t, anna.Cli.StateEvent(ctx, bauStaff, event.StateCanonicalAlias, "", &canonical))
	assert.Equal(t, id.NewRoomAlias("_rathaus_bauamt", env.Cfg.Homeserver.ServerName), canonical.Alias)
	var child event.SpaceChildEventContent
	require.NoError(t, anna.Cli.StateEvent(ctx, authority, event.StateSpaceChild, bauSpace.String(), &child))
	assert.NotEmpty(t, child.Via)
	require.NoError(t, anna.Cli.StateEvent(ctx, bauSpace, event.StateSpaceChild, bauStaff.String(), &child))
	assert.NotEmpty(t, child.Via)

	assertPowerLevels(t, anna.Cli, bauStaff, levels(map[id.UserID]int{anna.ID: 100, users["bernd"].ID: 50, carol.ID: 75}), 0)
	assertPowerLevels(t, dora.Cli, bbStaff, levels(map[id.UserID]int{dora.ID: 50}), 0)
	assertMembers(t, anna.Cli, bauStaff, bot, anna.ID, users["bernd"].ID, carol.ID)
	assertMembers(t, dora.Cli, bbStaff, bot, dora.ID)
	assertMembers(t, anna.Cli, authority, bot, anna.ID, users["bernd"].ID, carol.ID, dora.ID)

	// 3. A second reconciliation only reads.
	counter.reset()
	report, err := env.App.Departments().Reconcile(ctx)
	require.NoError(t, err)
	assert.Zero(t, report.Changes(), "%+v", report)
	assert.Empty(t, counter.writes(), "a second run sends no state event, invite or kick")

	// 5. Only admins may sync.
	join(users["bernd"], bauStaff)
	sent, err := users["bernd"].Cli.SendText(ctx, bauStaff, "!rathaus sync")
	require.NoError(t, err)
	assert.Contains(t, apptest.BotReplyTo(t, users["bernd"].Cli, bauStaff, bot, sent.EventID), "nur für Administrator")

	// Room settings are the admins' (and rathaus's): a caseworker cannot
	// rename the staff room.
	_, err = users["bernd"].Cli.SendStateEvent(ctx, bauStaff, event.StateRoomName, "", &event.RoomNameEventContent{Name: "Drift"})
	assert.Error(t, err, "caseworkers cannot change room settings")
	var pl event.PowerLevelsEventContent
	require.NoError(t, anna.Cli.StateEvent(ctx, bauStaff, event.StatePowerLevels, "", &pl))
	assert.Equal(t, 100, pl.StateDefault())
	assert.Equal(t, 75, pl.Kick())
	assert.Equal(t, 101, pl.GetEventLevel(protocol.DepartmentEventType))

	// Staff set their status; anyone in the room sees the departments.
	sent, err = users["bernd"].Cli.SendText(ctx, bauStaff, "!rathaus status verfügbar")
	require.NoError(t, err)
	assert.Contains(t, apptest.BotReplyTo(t, users["bernd"].Cli, bauStaff, bot, sent.EventID), "Status gesetzt / status set: verfügbar")
	statuses, err := env.App.Store().StaffStatuses(ctx)
	require.NoError(t, err)
	assert.Equal(t, store.StatusAvailable, statuses[users["bernd"].ID])
	sent, err = users["bernd"].Cli.SendText(ctx, bauStaff, "!rathaus departments")
	require.NoError(t, err)
	listing := apptest.BotReplyTo(t, users["bernd"].Cli, bauStaff, bot, sent.EventID)
	assert.Contains(t, listing, "• Bauamt: ")
	assert.Contains(t, listing, "• Bürgerbüro: ")

	// 2. Change the config: rename Bauamt, move Dora into it, make Carol a
	// caseworker, drop Bernd, remove the Bürgerbüro; an admin's sync
	// applies it.
	env.Extra = departmentsYAML("Bauordnungsamt",
		staffYAML(anna.ID, "admin")+staffYAML(carol.ID, "caseworker")+staffYAML(dora.ID, "caseworker"), "")
	counter.reset()
	sent, err = anna.Cli.SendText(ctx, bauStaff, "!rathaus sync")
	require.NoError(t, err)
	assert.Contains(t, apptest.BotReplyTo(t, anna.Cli, bauStaff, bot, sent.EventID), "Abgleich abgeschlossen")
	assert.NotEmpty(t, counter.writes())

	var name event.RoomNameEventContent
	require.NoError(t, anna.Cli.StateEvent(ctx, bauSpace, event.StateRoomName, "", &name))
	assert.Equal(t, "Bauordnungsamt", name.Name)
	assertPowerLevels(t, anna.Cli, bauStaff, levels(map[id.UserID]int{anna.ID: 100, carol.ID: 50, dora.ID: 50}), 0)
	assertMembers(t, anna.Cli, bauStaff, bot, anna.ID, carol.ID, dora.ID)
	assertMembers(t, anna.Cli, authority, bot, anna.ID, carol.ID, dora.ID)
	var gone event.MemberEventContent
	require.NoError(t, anna.Cli.StateEvent(ctx, bauStaff, event.StateMember, users["bernd"].ID.String(), &gone))
	assert.Equal(t, event.MembershipLeave, gone.Membership, "removed staff are kicked")
	assert.Contains(t, gone.Reason, "nicht mehr im Team", "with a reason")

	// The removed department is archived, not deleted: read-only, marked,
	// unlinked from the authority space, staff told.
	require.NoError(t, dora.Cli.StateEvent(ctx, bbStaff, protocol.DepartmentEventType, "", &dept))
	assert.True(t, dept.Archived)
	require.NoError(t, dora.Cli.StateEvent(ctx, bbStaff, event.StateRoomName, "", &name))
	assert.Equal(t, "[Archiv] Bürgerbüro", name.Name)
	assertPowerLevels(t, dora.Cli, bbStaff, levels(map[id.UserID]int{dora.ID: 50}), 101)
	assertMembers(t, dora.Cli, bbStaff, bot, dora.ID)
	_, err = dora.Cli.SendText(ctx, bbStaff, "Hallo?")
	assert.Error(t, err, "the archived room is read-only")
	var unlinked map[string]any
	require.NoError(t, anna.Cli.StateEvent(ctx, authority, event.StateSpaceChild, bbSpace.String(), &unlinked))
	assert.Empty(t, unlinked)
	msgs, err := dora.Cli.Messages(ctx, bbStaff, "", "", mautrix.DirectionBackward, nil, 20)
	require.NoError(t, err)
	told := false
	for _, evt := range msgs.Chunk {
		if evt.Sender == bot && evt.Type == event.EventMessage {
			_ = evt.Content.ParseRaw(evt.Type)
			told = told || strings.Contains(evt.Content.AsMessage().Body, "archiviert")
		}
	}
	assert.True(t, told, "staff of the removed department were told")

	// And again: nothing left to do.
	counter.reset()
	report, err = env.App.Departments().Reconcile(ctx)
	require.NoError(t, err)
	assert.Zero(t, report.Changes(), "%+v", report)
	assert.Empty(t, counter.writes())
}

// resolveRoom resolves one of rathaus's aliases as the bot.
func resolveRoom(t *testing.T, env *apptest.Env, localpart string) id.RoomID {
	t.Helper()
	resp, err := env.App.AppService().BotClient().ResolveAlias(context.Background(), id.NewRoomAlias(localpart, env.Cfg.Homeserver.ServerName))
	require.NoError(t, err)
	return resp.RoomID
}

func assertPowerLevels(t *testing.T, cli *mautrix.Client, room id.RoomID, users map[id.UserID]int, eventsDefault int) {
	t.Helper()
	var pl event.PowerLevelsEventContent
	require.NoError(t, cli.StateEvent(context.Background(), room, event.StatePowerLevels, "", &pl))
	assert.Equal(t, users, pl.Users, "power levels of %s", room)
	assert.Equal(t, eventsDefault, pl.EventsDefault, "events_default of %s", room)
}

// assertMembers checks the joined and invited members of a room.
func assertMembers(t *testing.T, cli *mautrix.Client, room id.RoomID, want ...id.UserID) {
	t.Helper()
	resp, err := cli.Members(context.Background(), room)
	require.NoError(t, err)
	var got []id.UserID
	for _, evt := range resp.Chunk {
		m := evt.Content.AsMember().Membership
		if m == event.MembershipJoin || m == event.MembershipInvite {
			got = append(got, id.UserID(evt.GetStateKey()))
		}
	}
	assert.ElementsMatch(t, want, got, "members of %s", room)
}
