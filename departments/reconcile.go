package departments

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice"
	"github.com/rathaus-de/rathaus/bot"
	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// Report counts what one reconciliation changed on Matrix.
type Report struct {
	Created     int
	StateEvents int
	Invites     int
	Kicks       int
	Archived    int
	// Failures are the problems of single rooms or members; the rest of
	// the reconciliation went on.
	Failures []string
}

// Changes is the number of requests that changed something.
func (r Report) Changes() int {
	return r.Created + r.StateEvents + r.Invites + r.Kicks + r.Archived
}

// String is a one-line German/English summary for the bot's answer.
func (r Report) String() string {
	s := fmt.Sprintf("%d Räume angelegt, %d Zustandsänderungen, %d Einladungen, %d Entfernungen, %d archiviert",
		r.Created, r.StateEvents, r.Invites, r.Kicks, r.Archived)
	if len(r.Failures) > 0 {
		s += fmt.Sprintf("; %d Fehler: %s", len(r.Failures), strings.Join(r.Failures, "; "))
	}
	return s
}

func (r *Report) fail(format string, args ...any) {
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}

// Reconcile converges the authority's spaces and staff rooms to the
// current config. It is idempotent: a second run right after the first
// only reads. Runs are serialised.
func (s *Service) Reconcile(ctx context.Context) (Report, error) {
	s.reconcileMu.Lock()
	defer s.reconcileMu.Unlock()
	cfg := s.config()
	log := zerolog.Ctx(ctx).With().Str("action", "reconcile").Logger()
	if log.GetLevel() == zerolog.Disabled {
		log = s.opts.Log.With().Str("action", "reconcile").Logger()
	}
	ctx = log.WithContext(ctx)
	var report Report

	managed, err := s.opts.Store.ListManagedRooms(ctx)
	if err != nil {
		return report, err
	}
	known := make(map[roomRef]store.ManagedRoom, len(managed))
	for _, m := range managed {
		known[roomRef{Kind: m.Kind, Key: m.Key}] = m
		s.index(m.Kind, m.Key, m.RoomID)
	}
	specs := desiredRooms(cfg)
	ids := make(map[roomRef]id.RoomID, len(specs))
	for _, spec := range specs {
		if err := s.ensureRoom(ctx, spec, known, ids, &report); err != nil {
			log.Error().Err(err).Str("room", aliasName(spec.Ref)).Msg("Failed to create managed room")
			report.fail("%s: %v", spec.Alias, err)
		}
		s.index(spec.Ref.Kind, spec.Ref.Key, ids[spec.Ref])
	}
	active := make(map[roomRef]bool, len(specs))
	for _, spec := range specs {
		active[spec.Ref] = true
		if roomID := ids[spec.Ref]; roomID != "" {
			s.converge(ctx, roomID, spec, ids, &report)
		}
	}
	for _, m := range managed {
		if ref := (roomRef{Kind: m.Kind, Key: m.Key}); !active[ref] && m.Kind != store.RoomAuthoritySpace {
			s.archive(ctx, m, &report)
		}
	}
	log.Info().Int("created", report.Created).Int("state_events", report.StateEvents).
		Int("invites", report.Invites).Int("kicks", report.Kicks).Int("archived", report.Archived).
		Int("failures", len(report.Failures)).Msg("Reconciled rooms with the config")
	return report, nil
}

// ensureRoom finds the room of a spec (database, then alias) or creates it
// in one createRoom call with everything known at that point.
func (s *Service) ensureRoom(ctx context.Context, spec roomSpec, known map[roomRef]store.ManagedRoom, ids map[roomRef]id.RoomID, report *Report) error {
	if m, ok := known[spec.Ref]; ok {
		ids[spec.Ref] = m.RoomID
		if !m.ArchivedAt.IsZero() { // the department is back in the config
			return s.opts.Store.PutManagedRoom(ctx, spec.Ref.Kind, spec.Ref.Key, m.RoomID)
		}
		return nil
	}
	bot := s.opts.AS.BotIntent()
	if resp, err := bot.ResolveAlias(ctx, spec.Alias); err == nil {
		// Created before, but the database lost the mapping: adopt it.
		ids[spec.Ref] = resp.RoomID
		return s.opts.Store.PutManagedRoom(ctx, spec.Ref.Kind, spec.Ref.Key, resp.RoomID)
	} else if !errors.Is(err, mautrix.MNotFound) {
		return fmt.Errorf("failed to resolve %s: %w", spec.Alias, err)
	}
	req := &mautrix.ReqCreateRoom{
		Visibility:         "private",
		Preset:             "private_chat",
		RoomAliasName:      appservice.AliasLocalpart(spec.Alias),
		Name:               spec.Name,
		Topic:              spec.Topic,
		Invite:             spec.Members,
		PowerLevelOverride: RoomPolicy(false).CreateContent(spec.Users, bot.UserID, s.opts.Capabilities.DefaultRoomVersion()),
	}
	if spec.IsSpace {
		req.CreationContent = map[string]any{"type": event.RoomTypeSpace}
	}
	for _, st := range spec.State {
		req.InitialState = append(req.InitialState, appservice.StateEvent(st.Type, st.StateKey, st.Content))
	}
	if spec.Parent != nil && ids[*spec.Parent] != "" {
		req.InitialState = append(req.InitialState, appservice.StateEvent(event.StateSpaceParent, ids[*spec.Parent].String(), appservice.SpaceParent(s.config().Homeserver.ServerName)))
	}
	resp, err := bot.CreateRoom(ctx, req)
	if err != nil {
		return err
	}
	report.Created++
	ids[spec.Ref] = resp.RoomID
	zerolog.Ctx(ctx).Info().Stringer("room_id", resp.RoomID).Stringer("alias", spec.Alias).Msg("Created managed room")
	return s.opts.Store.PutManagedRoom(ctx, spec.Ref.Kind, spec.Ref.Key, resp.RoomID)
}

// converge reads a room's state once and sends only what differs from the
// spec: state events, power levels, invites and kicks.
func (s *Service) converge(ctx context.Context, roomID id.RoomID, spec roomSpec, ids map[roomRef]id.RoomID, report *Report) {
	log := zerolog.Ctx(ctx).With().Stringer("room_id", roomID).Stringer("alias", spec.Alias).Logger()
	bot := s.opts.AS.BotIntent()
	state, err := bot.State(ctx, roomID)
	if err != nil {
		log.Error().Err(err).Msg("Failed to read room state")
		report.fail("%s: %v", spec.Alias, err)
		return
	}
	want := []stateSpec{
		{Type: event.StateRoomName, Content: &event.RoomNameEventContent{Name: spec.Name}},
		{Type: event.StateCanonicalAlias, Content: &event.CanonicalAliasEventContent{Alias: spec.Alias}},
	}
	if spec.Topic != "" || appservice.CurrentContent(state, event.StateTopic, "")["topic"] != nil {
		want = append(want, stateSpec{Type: event.StateTopic, Content: &event.TopicEventContent{Topic: spec.Topic}})
	}
	want = append(want, spec.State...)
	if spec.Parent != nil && ids[*spec.Parent] != "" {
		want = append(want, stateSpec{Type: event.StateSpaceParent, StateKey: ids[*spec.Parent].String(), Content: appservice.SpaceParent(s.config().Homeserver.ServerName)})
	}
	want = append(want, s.childLinks(state, spec, ids)...)
	for _, st := range want {
		if appservice.StateMatches(appservice.CurrentContent(state, st.Type, st.StateKey), st.Content) {
			continue
		}
		if _, err := bot.SendStateEvent(ctx, roomID, st.Type, st.StateKey, st.Content); err != nil {
			log.Error().Err(err).Str("event_type", st.Type.Type).Msg("Failed to update room state")
			report.fail("%s %s: %v", spec.Alias, st.Type.Type, err)
			continue
		}
		report.StateEvents++
	}
	s.convergePowerLevels(ctx, roomID, state, spec.Users, false, report)
	s.convergeMembers(ctx, roomID, state, spec, report)
}

// childLinks returns m.space.child events for the spec's children and
// empty ones that unlink children no longer wanted.
func (s *Service) childLinks(state mautrix.RoomStateMap, spec roomSpec, ids map[roomRef]id.RoomID) []stateSpec {
	var out []stateSpec
	wanted := map[string]bool{}
	for _, child := range spec.Children {
		if childID := ids[child]; childID != "" {
			wanted[childID.String()] = true
			out = append(out, stateSpec{Type: event.StateSpaceChild, StateKey: childID.String(),
				Content: appservice.SpaceChild(s.config().Homeserver.ServerName)})
		}
	}
	managed := make(map[string]bool, len(ids))
	for _, roomID := range ids {
		managed[roomID.String()] = true
	}
	for key, evt := range state[event.StateSpaceChild] {
		// Only rooms rathaus manages from the config are unlinked; case
		// rooms in a department space are not the config's business.
		if !wanted[key] && len(appservice.RawContent(evt)) > 0 && (managed[key] || s.isManagedRoom(key)) {
			out = append(out, stateSpec{Type: event.StateSpaceChild, StateKey: key, Content: appservice.Unlinked()})
		}
	}
	return out
}

// isManagedRoom reports whether a room id belongs to a (possibly archived)
// managed room: the room index knows every one.
func (s *Service) isManagedRoom(roomID string) bool {
	switch s.opts.Rooms.Lookup(id.RoomID(roomID)).Kind {
	case bot.RoomAuthoritySpace, bot.RoomDepartmentSpace, bot.RoomStaff:
		return true
	}
	return false
}

// convergePowerLevels sets the users map and the room policy (see
// RoomPolicy), keeping every other field of the room's power levels.
func (s *Service) convergePowerLevels(ctx context.Context, roomID id.RoomID, state mautrix.RoomStateMap, users map[id.UserID]int, archived bool, report *Report) {
	sent, err := appservice.ConvergePowerLevels(ctx, s.opts.AS.BotIntent(), roomID, state, RoomPolicy(archived), users)
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Stringer("room_id", roomID).Msg("Failed to update power levels")
		report.fail("%s power levels: %v", roomID, err)
		return
	}
	if sent {
		report.StateEvents++
	}
}

// convergeMembers invites missing staff and removes those no longer
// configured. Users who left are invited again: the config is the truth.
func (s *Service) convergeMembers(ctx context.Context, roomID id.RoomID, state mautrix.RoomStateMap, spec roomSpec, report *Report) {
	bot := s.opts.AS.BotIntent()
	wanted := make(map[id.UserID]bool, len(spec.Members))
	for _, u := range spec.Members {
		wanted[u] = true
		switch appservice.Membership(state, u) {
		case event.MembershipJoin, event.MembershipInvite:
			continue
		case event.MembershipBan:
			report.fail("%s: %s is banned; not invited", spec.Alias, u)
			continue
		}
		if _, err := bot.InviteUser(ctx, roomID, &mautrix.ReqInviteUser{UserID: u}); err != nil {
			zerolog.Ctx(ctx).Error().Err(err).Stringer("user_id", u).Stringer("room_id", roomID).Msg("Failed to invite staff member")
			report.fail("%s: invite %s: %v", spec.Alias, u, err)
			continue
		}
		report.Invites++
	}
	for key := range state[event.StateMember] {
		u := id.UserID(key)
		if wanted[u] || u == bot.UserID {
			continue
		}
		if m := appservice.Membership(state, u); m != event.MembershipJoin && m != event.MembershipInvite {
			continue
		}
		_, err := bot.KickUser(ctx, roomID, &mautrix.ReqKickUser{UserID: u,
			Reason: "Laut Konfiguration nicht mehr im Team / no longer on this team according to the configuration"})
		if err != nil {
			zerolog.Ctx(ctx).Error().Err(err).Stringer("user_id", u).Stringer("room_id", roomID).Msg("Failed to remove former staff member")
			report.fail("%s: remove %s: %v", spec.Alias, u, err)
			continue
		}
		report.Kicks++
	}
}

// archive marks the rooms of a department that left the config: staff are
// told once, the room becomes read-only and is renamed, nothing is deleted.
func (s *Service) archive(ctx context.Context, m store.ManagedRoom, report *Report) {
	log := zerolog.Ctx(ctx).With().Stringer("room_id", m.RoomID).Str("department", m.Key).Logger()
	bot := s.opts.AS.BotIntent()
	state, err := bot.State(ctx, m.RoomID)
	if err != nil {
		log.Error().Err(err).Msg("Failed to read state of a room to archive")
		report.fail("%s: %v", m.RoomID, err)
		return
	}
	dept := appservice.CurrentContent(state, protocol.DepartmentEventType, "")
	name, _ := dept["name"].(string)
	if m.ArchivedAt.IsZero() {
		at := time.Now()
		if err = s.opts.Store.SetManagedRoomArchived(ctx, m.Kind, m.Key, at); err != nil {
			report.fail("%s: %v", m.RoomID, err)
			return
		}
		m.ArchivedAt = at
		report.Archived++
		log.Info().Msg("Archiving the rooms of a department removed from the config")
	}
	if m.Kind == store.RoomStaff {
		notice := &event.MessageEventContent{MsgType: event.MsgNotice, Body: fmt.Sprintf(
			"Die Abteilung „%s“ wurde aus der Konfiguration entfernt. Dieser Raum ist archiviert: Der Verlauf bleibt lesbar, "+
				"neue Nachrichten sind nicht mehr möglich. / This department was removed; the room is archived and read-only.", name)}
		cause := id.EventID(fmt.Sprintf("archived/%d", m.ArchivedAt.UnixMilli()))
		if _, err = s.opts.Sender.Send(ctx, bot, m.RoomID, event.EventMessage, notice, appservice.TxnID(bot.UserID, m.RoomID, cause, "archive-notice")); err != nil {
			log.Error().Err(err).Msg("Failed to tell staff that their room is archived")
			report.fail("%s: notice: %v", m.RoomID, err)
		}
	}
	if dept != nil && dept["archived"] != true {
		dept["archived"] = true
		s.sendState(ctx, m.RoomID, protocol.DepartmentEventType, dept, report)
	}
	if archivedName := "[Archiv] " + name; name != "" && appservice.CurrentContent(state, event.StateRoomName, "")["name"] != archivedName {
		s.sendState(ctx, m.RoomID, event.StateRoomName, &event.RoomNameEventContent{Name: archivedName}, report)
	}
	users := map[id.UserID]int{}
	if raw, ok := appservice.CurrentContent(state, event.StatePowerLevels, "")["users"].(map[string]any); ok {
		for u, pl := range raw {
			if f, ok := pl.(float64); ok {
				users[id.UserID(u)] = int(f)
			}
		}
	}
	users[bot.UserID] = max(users[bot.UserID], config.BotPowerLevel)
	s.convergePowerLevels(ctx, m.RoomID, state, users, true, report)
}

func (s *Service) sendState(ctx context.Context, roomID id.RoomID, t event.Type, content any, report *Report) {
	if _, err := s.opts.AS.BotIntent().SendStateEvent(ctx, roomID, t, "", content); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Stringer("room_id", roomID).Str("event_type", t.Type).Msg("Failed to update room state")
		report.fail("%s %s: %v", roomID, t.Type, err)
		return
	}
	report.StateEvents++
}
