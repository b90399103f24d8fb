package appservice

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"maunium.net/go/mautrix/event"
)

func TestStateMatches(t *testing.T) {
	for _, tc := range []struct {
		name    string
		current map[string]any
		desired any
		want    bool
	}{
		{"missing event", nil, &event.RoomNameEventContent{Name: "Bauamt"}, false},
		{"same name", map[string]any{"name": "Bauamt"}, &event.RoomNameEventContent{Name: "Bauamt"}, true},
		{"renamed", map[string]any{"name": "Bauamt"}, &event.RoomNameEventContent{Name: "Bauordnungsamt"}, false},
		{"server added empty field", map[string]any{"alias": "#a:hs", "alt_aliases": []any{}}, map[string]any{"alias": "#a:hs"}, true},
		{"field we dropped is still set", map[string]any{"id": "x", "archived": true}, map[string]any{"id": "x"}, false},
		{"numbers compare as JSON", map[string]any{"users": map[string]any{"@a:hs": float64(50)}}, map[string]any{"users": map[string]any{"@a:hs": 50}}, true},
		{"power level changed", map[string]any{"users": map[string]any{"@a:hs": float64(50)}}, map[string]any{"users": map[string]any{"@a:hs": 75}}, false},
		{"empty child link", map[string]any{}, map[string]any{}, true},
		{"zero events_default missing", map[string]any{"users": map[string]any{}}, map[string]any{"users": map[string]any{}, "events_default": 0}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, StateMatches(tc.current, tc.desired))
		})
	}
}
