package bridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// OpenCaseRequest is what the citizen's channel asks for.
type OpenCaseRequest struct {
	Department config.DepartmentID
	// DisplayName is the name the citizen chose, or "".
	DisplayName string
	// Topic is a short, staff-facing subject (the service asked for); it
	// is shown in the staff room's announcement. Never the citizen's text.
	Topic string
	// Session is the hash of the guest session opening the case, or "".
	// A session opens at most one case (store.ErrConflict otherwise).
	Session string
}

// maxDisplayName bounds the citizen's chosen name.
const maxDisplayName = 64

// GhostDisplayName is how a citizen appears to staff: the chosen name with
// " (Gast)", or "Bürger:in".
func GhostDisplayName(chosen string) string {
	name := strings.Join(strings.Fields(chosen), " ")
	if r := []rune(name); len(r) > maxDisplayName {
		name = string(r[:maxDisplayName])
	}
	if name == "" {
		return "Bürger:in"
	}
	return name + " (Gast)"
}

// OpenCase opens a citizen case: a queued case with its reference, a ghost
// that speaks for the citizen, a case room in the department's space, and
// an announcement in the staff room.
func (b *Bridge) OpenCase(ctx context.Context, req OpenCaseRequest) (*store.Case, error) {
	d := b.config().Department(req.Department)
	if d == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknownDepartment, req.Department)
	}
	opaque := make([]byte, 12)
	if _, err := rand.Read(opaque); err != nil {
		return nil, fmt.Errorf("failed to make a ghost id: %w", err)
	}
	prefix := d.ReferencePrefix
	c, err := b.store.CreateCase(ctx, store.NewCase{
		ID: uuid.NewString(), Department: string(d.ID), Status: string(protocol.CaseQueued),
		Ghost: b.cfg.GhostUserID("guest_" + hex.EncodeToString(opaque)), Actor: "citizen", Session: req.Session,
		Reference: func(year, seq int) string { return FormatReference(prefix, year, seq) },
	})
	if err != nil {
		return nil, err
	}
	log := zerolog.Ctx(ctx).With().Str("case_id", c.ID).Logger()
	ctx = log.WithContext(ctx)
	log.Info().Str("department", c.Department).Msg("Opened case")
	if err = b.setUpCaseRoom(ctx, c, d, req); err != nil {
		return c, err
	}
	return c, nil
}

// setUpCaseRoom makes the ghost, the room and the announcement. Every
// step can run again after a failure without doing anything twice.
func (b *Bridge) setUpCaseRoom(ctx context.Context, c *store.Case, d *config.DepartmentConfig, req OpenCaseRequest) error {
	bot := b.as.BotIntent()
	ghost := b.as.Intent(c.Ghost)
	if err := ghost.EnsureRegistered(ctx); err != nil {
		return fmt.Errorf("failed to register the citizen's ghost: %w", err)
	}
	if err := ghost.SetDisplayName(ctx, GhostDisplayName(req.DisplayName)); err != nil {
		return fmt.Errorf("failed to name the citizen's ghost: %w", err)
	}
	space, err := b.store.GetManagedRoom(ctx, store.RoomDepartmentSpace, string(d.ID))
	if err != nil {
		return err
	}
	if c.RoomID == "" {
		content := b.caseContent(c, nil)
		initial := []*event.Event{
			stateEvent(protocol.CaseEventType, "", content),
			stateEvent(event.StateHistoryVisibility, "", &event.HistoryVisibilityEventContent{HistoryVisibility: event.HistoryVisibilityShared}),
			stateEvent(event.StateGuestAccess, "", &event.GuestAccessEventContent{GuestAccess: event.GuestAccessForbidden}),
		}
		if space != nil {
			initial = append(initial, stateEvent(event.StateSpaceParent, space.RoomID.String(), b.spaceParent()))
		}
		resp, err := bot.CreateRoom(ctx, &mautrix.ReqCreateRoom{
			Visibility: "private", Preset: "private_chat",
			Name:               fmt.Sprintf("%s · %s", c.Reference, d.Name),
			Invite:             []id.UserID{c.Ghost},
			InitialState:       initial,
			PowerLevelOverride: powerLevelOverride(map[id.UserID]int{bot.UserID: config.BotPowerLevel}),
		})
		if err != nil {
			return fmt.Errorf("failed to create the case room: %w", err)
		}
		c.RoomID = resp.RoomID
		if err = b.store.SetCaseRoom(ctx, c.ID, c.RoomID); err != nil {
			return err
		}
	}
	if err = ghost.EnsureJoined(ctx, c.RoomID); err != nil {
		return fmt.Errorf("failed to join the citizen's ghost: %w", err)
	}
	if space != nil {
		if err = b.linkCaseRoom(ctx, space.RoomID, c.RoomID, true); err != nil {
			return err
		}
	}
	return b.announceCase(ctx, c, d, req.Topic, id.EventID(c.ID))
}

// linkCaseRoom adds a case room to a department space, or removes it.
func (b *Bridge) linkCaseRoom(ctx context.Context, space, room id.RoomID, linked bool) error {
	var link any = map[string]any{}
	if linked {
		link = &event.SpaceChildEventContent{Via: []string{b.cfg.Homeserver.ServerName}}
	}
	if _, err := b.as.BotIntent().SendStateEvent(ctx, space, event.StateSpaceChild, room.String(), link); err != nil {
		return fmt.Errorf("failed to update the department space's link to the case room: %w", err)
	}
	return nil
}

// announceCase tells a department's staff room about a case waiting for
// them; cause makes the announcement's transaction id unique.
func (b *Bridge) announceCase(ctx context.Context, c *store.Case, d *config.DepartmentConfig, topic string, cause id.EventID) error {
	staff, err := b.store.GetManagedRoom(ctx, store.RoomStaff, string(d.ID))
	if err != nil || staff == nil {
		return fmt.Errorf("no staff room for %s: %w", d.ID, err)
	}
	if topic == "" {
		topic = "allgemeine Anfrage"
	}
	bot := b.as.BotIntent()
	notice := &event.MessageEventContent{MsgType: event.MsgNotice, Body: fmt.Sprintf(
		"Neuer Fall %s (%s). Übernehmen mit / claim with: %s claim %s", c.Reference, topic, CommandPrefix, c.Reference)}
	_, err = b.sender.Send(ctx, bot, staff.RoomID, event.EventMessage, notice, TxnID(bot.UserID, staff.RoomID, cause, "announce"))
	return err
}

func stateEvent(t event.Type, key string, content any) *event.Event {
	return &event.Event{Type: t, StateKey: &key, Content: event.Content{Parsed: content}}
}

// caseContent is the de.rathaus.case state of a case.
func (b *Bridge) caseContent(c *store.Case, assignees []id.UserID) *protocol.CaseContent {
	if assignees == nil {
		assignees = []id.UserID{}
	}
	content := &protocol.CaseContent{ID: c.ID, Reference: c.Reference, Status: protocol.CaseStatus(c.Status),
		Department: c.Department, Assignees: assignees}
	if !c.RetainUntil.IsZero() {
		content.RetainUntil = c.RetainUntil.UnixMilli()
	}
	return content
}

// claimCommand lets a caseworker of the case's department take a queued
// case: of two claims at once exactly one wins.
func (b *Bridge) claimCommand(ctx context.Context, sender id.UserID, args []string) string {
	if len(args) != 1 {
		return "Aufruf / usage: " + CommandPrefix + " claim <Aktenzeichen>"
	}
	ref := strings.ToUpper(args[0])
	c, err := b.store.GetCaseByReference(ctx, ref)
	if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to look up case")
		return "Der Fall konnte nicht geladen werden. / Could not load the case."
	} else if c == nil {
		return fmt.Sprintf("Es gibt keinen Fall %s. / No such case.", ref)
	}
	d := b.config().Department(config.DepartmentID(c.Department))
	member := (*config.StaffConfig)(nil)
	if d != nil {
		member = d.Member(sender)
	}
	if member == nil {
		return fmt.Sprintf("Nur das Team der Abteilung kann %s übernehmen. / Only the department's team can claim it.", ref)
	}
	next, err := NextCaseStatus(protocol.CaseStatus(c.Status), ActionClaim)
	if err != nil {
		return fmt.Sprintf("%s: %v", ref, err)
	}
	if open, err := b.store.OpenCasesOf(ctx, sender); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to count open cases")
		return "Der Fall konnte nicht übernommen werden. / Could not claim the case."
	} else if open >= member.MaxCases {
		return fmt.Sprintf("Du bearbeitest schon %d Fälle (höchstens %d). / You already have %d open cases (at most %d).",
			open, member.MaxCases, open, member.MaxCases)
	}
	err = b.store.TransitionCase(ctx, c.ID, c.Status, string(next), string(ActionClaim), sender.String())
	if errors.Is(err, store.ErrConflict) {
		return fmt.Sprintf("%s wurde gerade von jemand anderem übernommen. / Someone else just claimed it.", ref)
	} else if err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to claim case")
		return "Der Fall konnte nicht übernommen werden. / Could not claim the case."
	}
	if err = b.store.AddCaseAssignee(ctx, c.ID, sender); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("Failed to record assignee")
	}
	c.Status = string(next)
	if err = b.joinCaseworker(ctx, c, sender, d); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Str("case_id", c.ID).Msg("Failed to bring the caseworker into the case room")
		return fmt.Sprintf("%s gehört jetzt dir, aber die Einladung in den Fallraum schlug fehl; „%s sync“ hilft nicht, bitte melden. / Claimed, but the invitation failed.", ref, CommandPrefix)
	}
	return fmt.Sprintf("%s gehört jetzt dir; die Einladung in den Fallraum ist unterwegs. / The case is yours; an invitation to the case room is on its way.", ref)
}

// joinCaseworker invites the caseworker, updates the case state and tells
// the citizen that a person is there (the team's name only).
func (b *Bridge) joinCaseworker(ctx context.Context, c *store.Case, user id.UserID, d *config.DepartmentConfig) error {
	bot := b.as.BotIntent()
	if _, err := bot.InviteUser(ctx, c.RoomID, &mautrix.ReqInviteUser{UserID: user}); err != nil && !errors.Is(err, mautrix.MForbidden) {
		return err
	}
	assignees, err := b.store.CaseAssignees(ctx, c.ID)
	if err != nil {
		return err
	}
	if _, err = bot.SendStateEvent(ctx, c.RoomID, protocol.CaseEventType, "", b.caseContent(c, assignees)); err != nil {
		return err
	}
	users := map[id.UserID]int{bot.UserID: config.BotPowerLevel}
	for _, a := range assignees {
		users[a] = 50
	}
	state, err := bot.State(ctx, c.RoomID)
	if err != nil {
		return err
	}
	var report ReconcileReport
	b.convergePowerLevels(ctx, c.RoomID, state, users, false, &report)
	notice := &event.MessageEventContent{MsgType: event.MsgNotice, Body: fmt.Sprintf(
		"Jemand aus dem Team „%s“ ist jetzt für Sie da. / A member of the %s team is here for you now.", d.Name, d.Name)}
	// The guest chat shows the join in the citizen's language itself.
	tagged := &event.Content{Parsed: notice, Raw: map[string]any{noticeKindKey: "caseworker_joined"}}
	_, err = b.sender.Send(ctx, bot, c.RoomID, event.EventMessage, tagged,
		TxnID(bot.UserID, c.RoomID, id.EventID(c.ID+"/"+user.String()), "caseworker-joined"))
	return err
}
