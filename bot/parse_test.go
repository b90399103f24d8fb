package bot

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		ok   bool
		want Parsed
	}{
		{"plain", "!rathaus ping", true, Parsed{Name: "ping", Args: []string{}}},
		{"case and spaces", "  !Rathaus   PING  ", true, Parsed{Name: "ping", Args: []string{}}},
		{"prefix only", "!rathaus", true, Parsed{}},
		{"args", "!rathaus status busy", true, Parsed{Name: "status", Args: []string{"busy"}}},
		{"newline is not a second command", "!rathaus ping\n!rathaus sync", true,
			Parsed{Name: "ping", Args: []string{"!rathaus", "sync"}}},
		{"not for us", "hello !rathaus ping", false, Parsed{}},
		{"prefix glued", "!rathausping", false, Parsed{}},
		{"empty", "", false, Parsed{}},
		{"other bot", "!bauamt ping", false, Parsed{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Parse(tc.body)
			assert.Equal(t, tc.ok, ok)
			if tc.want.Args == nil {
				assert.Empty(t, got.Args)
				tc.want.Args = got.Args
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
