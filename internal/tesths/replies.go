package tesths

import (
	"context"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Replies pages through a room's history as cli sees it and returns the
// bodies of sender's messages, keyed by the event they reply to.
func Replies(ctx context.Context, cli *mautrix.Client, room id.RoomID, sender id.UserID) (map[id.EventID][]string, error) {
	out := map[id.EventID][]string{}
	from := ""
	for page := 0; page < 100; page++ {
		resp, err := cli.Messages(ctx, room, from, "", mautrix.DirectionBackward, nil, 100)
		if err != nil {
			return nil, err
		}
		for _, evt := range resp.Chunk {
			if evt.Sender != sender || evt.Type != event.EventMessage {
				continue
			}
			_ = evt.Content.ParseRaw(evt.Type)
			msg := evt.Content.AsMessage()
			if msg.RelatesTo != nil && msg.RelatesTo.InReplyTo != nil {
				out[msg.RelatesTo.InReplyTo.EventID] = append(out[msg.RelatesTo.InReplyTo.EventID], msg.Body)
			}
		}
		// Stop when the server stops advancing (it may hand a user who
		// left the room the same token again and again).
		if resp.End == "" || resp.End == from || len(resp.Chunk) == 0 {
			return out, nil
		}
		from = resp.End
	}
	return out, nil
}
