package appservice

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

func stateWithCreate(t *testing.T, sender id.UserID, content string) mautrix.RoomStateMap {
	t.Helper()
	key := ""
	evt := &event.Event{Type: event.StateCreate, StateKey: &key, Sender: sender, Content: event.Content{VeryRaw: json.RawMessage(content)}}
	require.NoError(t, evt.Content.ParseRaw(evt.Type))
	return mautrix.RoomStateMap{event.StateCreate: {"": evt}}
}

// TestCreatorsLeftOutFromV12: from room version 12 on, the creators must
// not be in the power levels' users map; before, the bot must be.
func TestCreatorsLeftOutFromV12(t *testing.T) {
	const bot, anna, ben = id.UserID("@rathaus:hs"), id.UserID("@anna:hs"), id.UserID("@ben:hs")
	users := map[id.UserID]int{bot: 101, anna: 100, ben: 50}
	for _, tc := range []struct {
		name, create string
		creators     []id.UserID
	}{
		{"v11", `{"room_version":"11"}`, nil},
		{"v10 with a creator field", `{"room_version":"10","creator":"@rathaus:hs"}`, nil},
		{"v12", `{"room_version":"12"}`, []id.UserID{bot}},
		{"v12 with an additional creator", `{"room_version":"12","additional_creators":["@anna:hs"]}`, []id.UserID{bot, anna}},
		{"unknown version", `{"room_version":"org.example.custom"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			creators := Creators(stateWithCreate(t, bot, tc.create))
			assert.Equal(t, tc.creators, creators)
			got := withoutCreators(users, creators)
			for _, c := range tc.creators {
				assert.NotContains(t, got, c)
			}
			assert.Contains(t, got, ben)
		})
	}
	assert.Len(t, users, 3, "the caller's map is not changed")
	assert.Nil(t, Creators(mautrix.RoomStateMap{}), "no create event in the state: nothing known")

	policy := PowerPolicy{Events: map[string]int{}}
	assert.Contains(t, policy.CreateContent(users, bot, id.RoomV11).Users, bot, "v11: the bot needs its level")
	assert.NotContains(t, policy.CreateContent(users, bot, id.RoomV12).Users, bot, "v12: the creator must not be listed")
	assert.Contains(t, policy.CreateContent(users, bot, "").Users, bot, "unknown default: as before")
}
