package calls

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/video"
)

// The status line names who is in the call and how their connection
// does, with a warning when it is poor; before anything is measured it
// says nothing about the connection.
func TestStatusTextShowsConnectionQuality(t *testing.T) {
	v := &video.StaffView{Running: true, Participants: []video.Participant{
		{Identity: "@anna:pruefheim.de", Quality: &video.Quality{RTT: 42 * time.Millisecond}},
		{Identity: CitizenIdentity, Quality: &video.Quality{RTT: 180 * time.Millisecond, ReceiveLoss: 0.08, SendLoss: 0.01}},
		{Identity: "@ben:pruefheim.de"},
	}}
	assert.Equal(t, "Videoberatung läuft / running. Im Anruf / in the call: 3 ("+
		"@anna:pruefheim.de [RTT 42 ms, Verlust / loss ↓0 % ↑0 %], "+
		"Bürger:in / citizen [schlechte Verbindung / poor connection, RTT 180 ms, Verlust / loss ↓8 % ↑1 %], "+
		"@ben:pruefheim.de). Wartend / waiting: 0.", statusText(v))
}

// A LiveKit identity names a Matrix user with or without a device; a
// server name with a port makes both readings valid user ids.
func TestUsersOfLiveKitIdentity(t *testing.T) {
	for identity, want := range map[string][]id.UserID{
		"@anna:rathaus.example":           {"@anna:rathaus.example"},
		"@anna:rathaus.example:ANNAPHONE": {"@anna:rathaus.example"},
		"@anna:127.0.0.1:8448":            {"@anna:127.0.0.1:8448", "@anna:127.0.0.1"},
		"@anna:127.0.0.1:8448:ANNAPHONE":  {"@anna:127.0.0.1:8448"},
		"citizen":                         nil,
		"@":                               nil,
	} {
		got := usersOf(identity)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("usersOf(%q) = %v, want %v", identity, got, want)
		}
	}
}
