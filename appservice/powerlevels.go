package appservice

import (
	"context"
	"fmt"
	"maps"

	"maunium.net/go/mautrix"
	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// PowerPolicy is a room's power levels apart from the users map: who may
// talk, moderate and change which state. The users map is passed
// separately because it is what changes when staff come and go.
type PowerPolicy struct {
	EventsDefault int
	StateDefault  int
	Invite        int
	Kick          int
	Redact        int
	Ban           int
	// Events are the levels of single event types.
	Events map[string]int
}

// content is the policy with a users map as the generic JSON object the
// room state is compared with (see StateMatches).
func (p PowerPolicy) content(users map[id.UserID]int) map[string]any {
	events := make(map[string]any, len(p.Events))
	for t, pl := range p.Events {
		events[t] = pl
	}
	wantUsers := make(map[string]any, len(users))
	for u, pl := range users {
		wantUsers[u.String()] = pl
	}
	return map[string]any{
		"events_default": p.EventsDefault,
		"state_default":  p.StateDefault,
		"invite":         p.Invite,
		"kick":           p.Kick,
		"redact":         p.Redact,
		"ban":            p.Ban,
		"events":         events,
		"users":          wantUsers,
	}
}

// CreateContent is the power_level_content_override of a createRoom
// request by creator for a room of the given version: the policy and the
// users, without the creator where the version gives creators unlimited
// power (room version 12 on).
func (p PowerPolicy) CreateContent(users map[id.UserID]int, creator id.UserID, version id.RoomVersion) *event.PowerLevelsEventContent {
	level := func(v int) *int { return &v }
	if creatorsPrivileged(version) {
		users = withoutCreators(users, []id.UserID{creator})
	}
	return &event.PowerLevelsEventContent{
		Users: users, Events: maps.Clone(p.Events), EventsDefault: p.EventsDefault,
		StateDefaultPtr: level(p.StateDefault), InvitePtr: level(p.Invite), KickPtr: level(p.Kick),
		BanPtr: level(p.Ban), RedactPtr: level(p.Redact),
	}
}

// ConvergePowerLevels sets the room's users map and policy, keeping every
// other field of its power levels (notifications, fields of newer room
// versions). The room's creators are left out of the users map where its
// version gives them unlimited power (see Creators). state is the room's
// state as read before; nothing is sent if it already matches. It reports
// whether it sent an event.
func ConvergePowerLevels(ctx context.Context, intent *mauas.IntentAPI, room id.RoomID, state mautrix.RoomStateMap,
	policy PowerPolicy, users map[id.UserID]int) (bool, error) {
	current := CurrentContent(state, event.StatePowerLevels, "")
	want := policy.content(withoutCreators(users, Creators(state)))
	have := make(map[string]any, len(want))
	for k := range want {
		have[k] = current[k]
	}
	if StateMatches(have, want) {
		return false, nil
	}
	next := make(map[string]any, len(current)+len(want))
	maps.Copy(next, current)
	maps.Copy(next, want)
	if _, err := intent.SendStateEvent(ctx, room, event.StatePowerLevels, "", next); err != nil {
		return false, fmt.Errorf("failed to update the power levels of %s: %w", room, err)
	}
	return true, nil
}
