package ingest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMakeTransactions(t *testing.T) {
	txns, err := makeTransactions("run1", "hs.example", 50, 250, 100)
	require.NoError(t, err)
	require.Len(t, txns, 3)
	assert.Equal(t, []int{100, 100, 50}, []int{txns[0].events, txns[1].events, txns[2].events})

	ids := map[string]bool{}
	rooms := map[string]int{}
	var total int
	for _, txn := range txns {
		var body struct {
			Events []json.RawMessage `json:"events"`
		}
		require.NoError(t, json.Unmarshal(txn.body, &body))
		require.Len(t, body.Events, txn.events)
		for _, raw := range body.Events {
			var evt messageEvent
			require.NoError(t, json.Unmarshal(raw, &evt))
			assert.False(t, ids[evt.EventID], "event id %s repeats", evt.EventID)
			ids[evt.EventID] = true
			rooms[evt.RoomID]++
			assert.Equal(t, "@user:hs.example", evt.Sender)
			assert.Equal(t, "m.room.message", evt.Type)
			total += len(raw)
		}
	}
	assert.Len(t, rooms, 50, "spread over every room")
	assert.InDelta(t, 400, total/len(ids), 40, "about 400 bytes per event")

	again, err := makeTransactions("run2", "hs.example", 50, 250, 100)
	require.NoError(t, err)
	assert.NotEqual(t, txns[0].body, again[0].body, "another run has other event ids")
	assert.NotEqual(t, txns[0].id, again[0].id, "and other transaction ids")
}
