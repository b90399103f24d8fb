package app

import (
	"context"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
	"github.com/rathaus-de/rathaus/tickets"
)

// ticketRooms is the bot in case rooms, for the tickets capability: the
// notice of a submission's status through the Sender (once per
// transaction id), the de.rathaus.ticket state directly (setting the same
// state again is harmless).
type ticketRooms struct{ a *App }

var (
	_ tickets.SubmissionRooms = ticketRooms{}
	_ tickets.SubmissionStore = (*store.Store)(nil)
)

func (r ticketRooms) SendNotice(ctx context.Context, room id.RoomID, content *event.Content, txnID string) error {
	_, err := r.a.sender.Send(ctx, r.a.as.BotIntent(), room, event.EventMessage, content, txnID)
	return err
}

func (r ticketRooms) Ticket(ctx context.Context, room id.RoomID, ticket protocol.TicketID) (*protocol.TicketContent, error) {
	var t protocol.TicketContent
	if err := r.a.as.BotIntent().StateEvent(ctx, room, protocol.TicketEventType, ticket.String(), &t); err != nil {
		return nil, err
	}
	return &t, nil
}

func (r ticketRooms) SetTicket(ctx context.Context, room id.RoomID, t *protocol.TicketContent) error {
	_, err := r.a.as.BotIntent().SendStateEvent(ctx, room, protocol.TicketEventType, t.ID.String(), t)
	return err
}

// buildSubmissions makes the tickets capability and adds its FIT-Connect
// status callbacks to the public listener (served with the guest chat).
func (a *App) buildSubmissions() (err error) {
	a.submissions, err = tickets.NewSubmissions(tickets.SubmissionOptions{Config: a.config, Store: a.store, Rooms: ticketRooms{a},
		Log: a.log.With().Str("component", "tickets").Logger()})
	if err != nil {
		return err
	}
	a.public = append(a.public, publicRoute{pattern: tickets.CallbackPattern, handler: a.submissions.CallbackHandler(nil)})
	return nil
}
