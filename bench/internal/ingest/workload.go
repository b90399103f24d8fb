package ingest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
)

// Workload is one shape of load: transactions of TxnSize events, InFlight
// of them sent at once.
type Workload struct {
	Name     string
	TxnSize  int
	InFlight int
	// Backlog marks the workload that replays a homeserver's backlog after
	// downtime: its size is Options.Backlog, and the report adds the drain
	// rate over time and the memory curve.
	Backlog bool
}

// workloads are all workloads, in the order of the report.
var workloads = []Workload{
	{Name: "txn1x1", TxnSize: 1, InFlight: 1},
	{Name: "txn1x8", TxnSize: 1, InFlight: 8},
	{Name: "txn10x1", TxnSize: 10, InFlight: 1},
	{Name: "txn10x8", TxnSize: 10, InFlight: 8},
	{Name: "txn100x1", TxnSize: 100, InFlight: 1},
	{Name: "txn100x8", TxnSize: 100, InFlight: 8},
	{Name: "backlog", TxnSize: 100, InFlight: 1, Backlog: true},
}

func workloadNames() []string {
	names := make([]string, len(workloads))
	for i, w := range workloads {
		names[i] = w.Name
	}
	return names
}

func workloadByName(name string) (Workload, bool) {
	for _, w := range workloads {
		if w.Name == name {
			return w, true
		}
	}
	return Workload{}, false
}

// Events is the number of events of one run of w.
func (w Workload) Events(o Options) int {
	switch {
	case w.Backlog:
		return o.Backlog
	case w.TxnSize == 1 && o.EventsTxn1 > 0:
		return o.EventsTxn1
	}
	return o.Events
}

// Describe says what w is, for the report.
func (w Workload) Describe(events int) string {
	if w.Backlog {
		return fmt.Sprintf("backlog: %s events in %d-event transactions, one in flight", thousands(float64(events)), w.TxnSize)
	}
	return fmt.Sprintf("%d-event transactions, %d in flight, %s events", w.TxnSize, w.InFlight, thousands(float64(events)))
}

// transaction is one PUT /_matrix/app/v1/transactions/{id}.
type transaction struct {
	id     string
	body   []byte
	events int
}

// messageEvent is an m.room.message as a homeserver pushes it.
type messageEvent struct {
	Type           string         `json:"type"`
	RoomID         string         `json:"room_id"`
	Sender         string         `json:"sender"`
	EventID        string         `json:"event_id"`
	OriginServerTS int64          `json:"origin_server_ts"`
	Content        messageContent `json:"content"`
	Unsigned       map[string]int `json:"unsigned"`
}

type messageContent struct {
	MsgType  string         `json:"msgtype"`
	Body     string         `json:"body"`
	Mentions map[string]any `json:"m.mentions"`
}

// txnBody is the body of a transaction.
type txnBody struct {
	Events []json.RawMessage `json:"events"`
}

// makeTransactions builds the transactions of one run: events
// m.room.message events of about 400 bytes from @user:serverName, spread
// round-robin over rooms rooms, in transactions of size events. Event and
// transaction ids are unique per runID.
func makeTransactions(runID, serverName string, rooms, events, size int) ([]transaction, error) {
	const baseTS = int64(1_764_000_000_000)
	txns := make([]transaction, 0, (events+size-1)/size)
	for first := 0; first < events; first += size {
		n := min(size, events-first)
		body := txnBody{Events: make([]json.RawMessage, 0, n)}
		for i := first; i < first+n; i++ {
			hash := sha256.Sum256([]byte(runID + "/" + strconv.Itoa(i)))
			evt := messageEvent{
				Type:           "m.room.message",
				RoomID:         fmt.Sprintf("!benchroom%03dQxTgLmVrWp:%s", i%rooms, serverName),
				Sender:         "@user:" + serverName,
				EventID:        "$" + base64.RawURLEncoding.EncodeToString(hash[:]),
				OriginServerTS: baseTS + int64(i),
				Content: messageContent{
					MsgType: "m.text",
					Body: "Guten Tag, ich möchte den Termin zur Abholung meines Personalausweises " +
						"verschieben, da ich am Donnerstag verhindert bin. Nachricht " + strconv.Itoa(i),
					Mentions: map[string]any{},
				},
				Unsigned: map[string]int{"age": 120},
			}
			raw, err := json.Marshal(evt)
			if err != nil {
				return nil, fmt.Errorf("failed to encode event: %w", err)
			}
			body.Events = append(body.Events, raw)
		}
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("failed to encode transaction: %w", err)
		}
		txns = append(txns, transaction{id: runID + "-" + strconv.Itoa(len(txns)), body: raw, events: n})
	}
	return txns, nil
}
