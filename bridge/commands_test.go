package bridge

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		ok   bool
		want Command
	}{
		{"plain", "!rathaus ping", true, Command{Name: "ping", Args: []string{}}},
		{"case and spaces", "  !Rathaus   PING  ", true, Command{Name: "ping", Args: []string{}}},
		{"prefix only", "!rathaus", true, Command{}},
		{"args", "!rathaus status busy", true, Command{Name: "status", Args: []string{"busy"}}},
		{"newline is not a second command", "!rathaus ping\n!rathaus sync", true,
			Command{Name: "ping", Args: []string{"!rathaus", "sync"}}},
		{"not for us", "hello !rathaus ping", false, Command{}},
		{"prefix glued", "!rathausping", false, Command{}},
		{"empty", "", false, Command{}},
		{"other bot", "!bauamt ping", false, Command{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseCommand(tc.body)
			assert.Equal(t, tc.ok, ok)
			if tc.want.Args == nil {
				assert.Empty(t, got.Args)
				tc.want.Args = got.Args
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
