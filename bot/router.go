// Package bot routes the room events rathaus receives and runs the bot's
// commands. Events are routed by room kind, looked up in a RoomIndex that
// the capabilities owning the rooms keep current; commands are declared
// once, by the capability that owns them, in a Registry that also writes
// the help text and checks who may run what. The bot accepts invites from
// users of its own server and declines all others.
package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	mauas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus"
	"github.com/rathaus-de/rathaus/appservice"
)

// EventHandler handles the events of rooms of one kind, in order per
// room, before the bot looks for commands in them. It may run again for
// the same event after a crash (see appservice.Handler). An error retries
// the event; one wrapping appservice.ErrPermanent parks it.
type EventHandler func(ctx context.Context, evt *event.Event, room RoomInfo) error

// Options configure New.
type Options struct {
	// AS acts as the bot and keeps the state store.
	AS *mauas.AppService
	// Sender sends the bot's replies through the outbox.
	Sender *appservice.Sender
	// Rooms says what each room is.
	Rooms *RoomIndex
	// Roles decide the commands' permissions.
	Roles Roles
	// IsOurUser reports whether a user is in rathaus's namespace (the bot,
	// citizens' ghosts); their messages are never read as commands.
	IsOurUser func(id.UserID) bool
	Log       zerolog.Logger
}

// Router is the appservice.Handler of rathaus: every room event the
// homeserver pushes arrives here and is handed to the handlers of its
// room's kind, then read as a command.
type Router struct {
	opts     Options
	registry *Registry
	handlers map[RoomKind][]EventHandler
}

var (
	_ appservice.Handler      = (*Router)(nil)
	_ appservice.Selector     = (*Router)(nil)
	_ appservice.QueryHandler = (*Router)(nil)
)

// New checks the options and registers the built-in commands (help, ping,
// version).
func New(opts Options) (*Router, error) {
	if opts.AS == nil || opts.Sender == nil || opts.Rooms == nil || opts.Roles == nil || opts.IsOurUser == nil {
		return nil, fmt.Errorf("%w: AS, Sender, Rooms, Roles and IsOurUser", ErrMissingOption)
	}
	r := &Router{opts: opts, registry: NewRegistry(), handlers: map[RoomKind][]EventHandler{}}
	r.registry.MustRegister(
		Command{Names: []string{"ping"}, Permission: Anyone, Help: "prüft, ob rathaus antwortet / checks that rathaus answers",
			Run: func(_ context.Context, req *Request) string {
				lag := time.Since(time.UnixMilli(req.Event.Timestamp)).Round(time.Millisecond)
				return fmt.Sprintf("Pong! rathaus ist erreichbar (%s). / rathaus is up.", lag)
			}},
		Command{Names: []string{"version"}, Permission: Anyone, Help: "zeigt die Version / shows the version",
			Run: func(context.Context, *Request) string { return "rathaus " + rathaus.Version }},
	)
	return r, nil
}

// Register adds a capability's commands (see Registry.Register). The
// capabilities register theirs before the dispatcher starts; a command
// registered later is answered from then on.
func (r *Router) Register(cmds ...Command) error { return r.registry.Register(cmds...) }

// Registry returns the command registry.
func (r *Router) Registry() *Registry { return r.registry }

// OnRoomEvent adds a handler for every event in rooms of a kind. Call it
// before the dispatcher starts; handlers of one kind run in the order
// they were added.
func (r *Router) OnRoomEvent(kind RoomKind, h EventHandler) {
	r.handlers[kind] = append(r.handlers[kind], h)
}

// HandleEvent implements appservice.Handler.
func (r *Router) HandleEvent(ctx context.Context, evt *event.Event) error {
	if evt.Type.IsState() {
		mautrix.UpdateStateStore(ctx, r.opts.AS.StateStore, evt)
	}
	room := r.opts.Rooms.Lookup(evt.RoomID)
	for _, h := range r.handlers[room.Kind] {
		if err := h(ctx, evt, room); err != nil {
			return err
		}
	}
	switch evt.Type {
	case event.StateMember:
		return r.handleMember(ctx, evt)
	case event.EventMessage:
		return r.handleMessage(ctx, evt, room)
	}
	return nil
}

// Wants implements appservice.Selector: events the router would do
// nothing with are marked done without being decoded. Rooms of a kind
// with handlers get every event; in the others the router only reads
// state (for the state store, and invites of the bot) and commands, so a
// message is wanted only if it may be one. Anything the cheap look cannot
// rule out (JSON escapes, a "state_key" in a body) is decoded enough to
// tell.
func (r *Router) Wants(room id.RoomID, eventType string, raw []byte) bool {
	if len(r.handlers[r.opts.Rooms.Lookup(room).Kind]) > 0 {
		return true
	}
	if !bytes.Contains(raw, []byte(`\u`)) && !bytes.Contains(raw, []byte(`"state_key"`)) &&
		(eventType != event.EventMessage.Type || !containsFoldASCII(raw, Prefix)) {
		return false // neither state nor a possible command
	}
	var probe struct {
		Sender   id.UserID                 `json:"sender"`
		StateKey *string                   `json:"state_key"`
		Content  event.MessageEventContent `json:"content"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return true // the dispatcher reports it when it decodes the event
	}
	if probe.StateKey != nil {
		return true
	}
	return eventType == event.EventMessage.Type && probe.Content.MsgType == event.MsgText &&
		!r.opts.IsOurUser(probe.Sender) && IsCommand(CommandText(&probe.Content))
}

// containsFoldASCII reports whether s contains sub, ignoring ASCII case;
// sub must be lower case and start with a byte that is not a letter.
func containsFoldASCII(s []byte, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := bytes.IndexByte(s[i:], sub[0])
		if j < 0 {
			return false
		}
		i += j
		if i+len(sub) <= len(s) && bytes.EqualFold(s[i:i+len(sub)], []byte(sub)) {
			return true
		}
	}
	return false
}

// declineAfter is how long after a remote invite was sent rathaus waits
// before declining it (see handleMember).
const declineAfter = 2 * time.Second

// handleMember accepts invites for the bot from users of our own server and
// declines all others: a foreign server cannot pull the bot into its rooms.
func (r *Router) handleMember(ctx context.Context, evt *event.Event) error {
	bot := r.opts.AS.BotIntent()
	if evt.GetStateKey() != bot.UserID.String() || evt.Content.AsMember().Membership != event.MembershipInvite {
		return nil
	}
	log := zerolog.Ctx(ctx)
	if evt.Sender.Homeserver() != r.opts.AS.HomeserverDomain {
		// NOTSPEC (Synapse 1.163 as the inviting server): over federation
		// our server acknowledges the invite before the inviting server
		// has stored it, and pushes it to us at once; a rejection sent in
		// that moment fails at the inviting server ("not in room"), and
		// Synapse then rejects only locally, so the inviter never learns.
		// Give the inviting server a moment.
		if wait := declineAfter - time.Since(time.UnixMilli(evt.Timestamp)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		log.Info().Stringer("inviter", evt.Sender).Msg("Declining invite from a user of another server")
		_, err := bot.LeaveRoom(ctx, evt.RoomID, &mautrix.ReqLeave{
			Reason: "rathaus nimmt nur Einladungen von Konten dieses Servers an / rathaus only accepts invites from users of this server",
		})
		return appservice.PermanentIfRefused(err)
	}
	log.Info().Stringer("inviter", evt.Sender).Msg("Accepting invite")
	_, err := bot.JoinRoomByID(ctx, evt.RoomID)
	if err == nil {
		err = r.opts.AS.StateStore.SetMembership(ctx, evt.RoomID, bot.UserID, event.MembershipJoin)
	}
	return appservice.PermanentIfRefused(err)
}

// handleMessage answers bot commands. Messages of our own users (the bot,
// citizen ghosts) are never read as commands, and edits are not re-run.
func (r *Router) handleMessage(ctx context.Context, evt *event.Event, room RoomInfo) error {
	if r.opts.IsOurUser(evt.Sender) {
		return nil
	}
	msg := evt.Content.AsMessage()
	if msg.MsgType != event.MsgText || msg.NewContent != nil || msg.RelatesTo.GetReplaceID() != "" {
		return nil
	}
	parsed, ok := Parse(CommandText(msg))
	if !ok {
		return nil
	}
	logged := parsed.Name
	if r.registry.Lookup(logged) == nil && logged != "" {
		logged = "unknown" // free text a person typed is never logged
	}
	zerolog.Ctx(ctx).Debug().Str("command", logged).Stringer("sender", evt.Sender).Msg("Handling bot command")
	answer := r.registry.Answer(ctx, r.opts.Roles, &Request{Event: evt, Sender: evt.Sender, Room: room, Name: parsed.Name, Args: parsed.Args})
	return r.Reply(ctx, evt, answer)
}

// Reply sends a plain notice in reply to evt through the outbox, with a
// transaction id derived from the event: replayed after a crash, the reply
// is not sent twice.
func (r *Router) Reply(ctx context.Context, to *event.Event, text string) error {
	content := &event.MessageEventContent{
		MsgType:   event.MsgNotice,
		Body:      text,
		RelatesTo: &event.RelatesTo{InReplyTo: &event.InReplyTo{EventID: to.ID}},
		Mentions:  &event.Mentions{},
	}
	bot := r.opts.AS.BotIntent()
	_, err := r.opts.Sender.Send(ctx, bot, to.RoomID, event.EventMessage, content, appservice.TxnID(bot.UserID, to.RoomID, to.ID, "reply"))
	if err != nil {
		return appservice.PermanentIfRefused(fmt.Errorf("failed to send reply: %w", err))
	}
	return nil
}

// QueryUser implements appservice.QueryHandler. The bot exists; citizen
// ghosts are created by rathaus itself when a case opens, so a query for any
// other id in our namespace is answered "no such user".
func (r *Router) QueryUser(ctx context.Context, userID id.UserID) (bool, error) {
	bot := r.opts.AS.BotIntent()
	if userID != bot.UserID {
		return false, nil
	}
	if err := bot.EnsureRegistered(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// QueryAlias implements appservice.QueryHandler. rathaus creates its rooms
// with their aliases itself and never on demand.
func (r *Router) QueryAlias(context.Context, id.RoomAlias) (bool, error) {
	return false, nil
}
