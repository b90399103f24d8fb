package bot

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// TestWants: the router declines, without decoding, what it would do
// nothing with, and never declines what it acts on.
func TestWants(t *testing.T) {
	rooms := NewRoomIndex()
	rooms.Set("!case:hs", RoomInfo{Kind: RoomCase, Key: "BAU-2026-00001"})
	rooms.Set("!staff:hs", RoomInfo{Kind: RoomStaff, Key: "bauamt"})
	r := &Router{
		opts:     Options{Rooms: rooms, IsOurUser: func(u id.UserID) bool { return strings.HasPrefix(u.String(), "@rathaus") }},
		handlers: map[RoomKind][]EventHandler{},
	}
	r.OnRoomEvent(RoomCase, func(context.Context, *event.Event, RoomInfo) error { return nil })
	msg := func(room, sender, msgtype, body string) []byte {
		return fmt.Appendf(nil, `{"event_id":"$e","room_id":%q,"type":"m.room.message","sender":%q,"content":{"msgtype":%q,"body":%q}}`,
			room, sender, msgtype, body)
	}
	for _, tc := range []struct {
		name, room, typ string
		raw             []byte
		want            bool
	}{
		{"chat in a room rathaus does not manage", "!other:hs", "m.room.message", msg("!other:hs", "@a:hs", "m.text", "Guten Morgen"), false},
		{"chat in a staff room", "!staff:hs", "m.room.message", msg("!staff:hs", "@a:hs", "m.text", "Mittagspause?"), false},
		{"a command", "!other:hs", "m.room.message", msg("!other:hs", "@a:hs", "m.text", "!rathaus ping"), true},
		{"a command in capitals", "!staff:hs", "m.room.message", msg("!staff:hs", "@a:hs", "m.text", "  !RATHAUS status"), true},
		{"a command escaped in JSON", "!other:hs", "m.room.message", []byte(`{"type":"m.room.message","sender":"@a:hs","content":{"msgtype":"m.text","body":"\u0021rathaus ping"}}`), true},
		{"a command in a reply with the old fallback", "!staff:hs", "m.room.message",
			[]byte(`{"type":"m.room.message","sender":"@a:hs","content":{"msgtype":"m.text","body":"> <@rathaus:hs> Neuer Fall\n\n!rathaus übernehmen","m.relates_to":{"m.in_reply_to":{"event_id":"$a"}}}}`), true},
		{"a quote that is no reply", "!staff:hs", "m.room.message", msg("!staff:hs", "@a:hs", "m.text", "> <@rathaus:hs> Neuer Fall\n\n!rathaus übernehmen"), false},
		{"the prefix inside a sentence", "!other:hs", "m.room.message", msg("!other:hs", "@a:hs", "m.text", "what does !rathaus do?"), false},
		{"a command as a notice", "!other:hs", "m.room.message", msg("!other:hs", "@a:hs", "m.notice", "!rathaus ping"), false},
		{"the bot's own reply", "!other:hs", "m.room.message", msg("!other:hs", "@rathaus:hs", "m.text", "!rathaus ping"), false},
		{"a reaction", "!other:hs", "m.reaction", []byte(`{"type":"m.reaction","sender":"@a:hs","content":{"m.relates_to":{"rel_type":"m.annotation","key":"!rathaus"}}}`), false},
		{"an invite (state)", "!other:hs", "m.room.member", []byte(`{"type":"m.room.member","state_key":"@rathaus:hs","sender":"@a:hs","content":{"membership":"invite"}}`), true},
		{"any state event", "!other:hs", "m.room.name", []byte(`{"type":"m.room.name","state_key":"","sender":"@a:hs","content":{"name":"x"}}`), true},
		{"a message that mentions state_key", "!other:hs", "m.room.message", msg("!other:hs", "@a:hs", "m.text", `"state_key"`), false},
		{"anything in a case room", "!case:hs", "m.reaction", []byte(`{"type":"m.reaction"}`), true},
		{"undecodable JSON that may be state", "!other:hs", "m.room.message", []byte(`{"state_key": 5`), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, r.Wants(id.RoomID(tc.room), tc.typ, tc.raw))
		})
	}
}

func BenchmarkWantsChat(b *testing.B) {
	r := &Router{opts: Options{Rooms: NewRoomIndex(), IsOurUser: func(id.UserID) bool { return false }}, handlers: map[RoomKind][]EventHandler{}}
	raw := []byte(`{"event_id":"$abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG","room_id":"!abcdefghijklmnop:example.org","type":"m.room.message","sender":"@someone:example.org","origin_server_ts":1764320000000,"content":{"msgtype":"m.text","body":"Guten Tag, ich habe eine Frage zu meinem Bauantrag vom letzten Monat. Wann kann ich mit einer Antwort rechnen?","m.mentions":{}},"unsigned":{"age":120}}`)
	for b.Loop() {
		if r.Wants("!abcdefghijklmnop:example.org", "m.room.message", raw) {
			b.Fatal("wanted")
		}
	}
}
