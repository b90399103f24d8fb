package calls

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

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
