package appservice

import (
	"encoding/json"
	"reflect"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Room state as rathaus compares it: whoever converges a room reads its
// state once (GET /state), compares each event it manages with what it
// wants, and sends only the differences.

// RawContent returns an event's content as a generic JSON object, or nil.
func RawContent(evt *event.Event) map[string]any {
	if evt == nil {
		return nil
	}
	data := evt.Content.VeryRaw
	if data == nil {
		var err error
		if data, err = json.Marshal(&evt.Content); err != nil {
			return nil
		}
	}
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return out
}

// CurrentContent returns the content of one state event of a room, or nil.
func CurrentContent(state mautrix.RoomStateMap, t event.Type, stateKey string) map[string]any {
	return RawContent(state[t][stateKey])
}

// StateMatches reports whether the current content already says what the
// desired content says. Both are compared as JSON; a key the current
// content has in addition is ignored only if its value is empty (servers
// add fields such as "alt_aliases": []), so a field rathaus removed (such
// as "archived": true) is still seen as a difference.
func StateMatches(current map[string]any, desired any) bool {
	if current == nil {
		return false
	}
	data, err := json.Marshal(desired)
	if err != nil {
		return false
	}
	var want map[string]any
	if err = json.Unmarshal(data, &want); err != nil {
		return false
	}
	for k, v := range want {
		if !reflect.DeepEqual(normalize(v), normalize(current[k])) {
			return false
		}
	}
	for k, v := range current {
		if _, ok := want[k]; !ok && !isEmpty(v) {
			return false
		}
	}
	return true
}

// normalize treats a missing value and an empty one alike.
func normalize(v any) any {
	if isEmpty(v) {
		return nil
	}
	return v
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case bool:
		return !t
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	}
	return false
}

// Membership returns a user's membership in the state ("" if none).
func Membership(state mautrix.RoomStateMap, u id.UserID) event.Membership {
	m, _ := CurrentContent(state, event.StateMember, u.String())["membership"].(string)
	return event.Membership(m)
}
