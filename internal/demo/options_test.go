package demo

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/config"
)

func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		want    func(*Options)
		wantErr string
	}{
		{name: "defaults", want: func(o *Options) {}},
		{name: "environment", env: map[string]string{EnvDir: "/tmp/d", EnvHSPort: "1", EnvFedPort: "2", EnvASPort: "3", EnvChatPort: "4", EnvDendriteBin: "/x/dendrite", EnvRathausBin: "/x/rathaus", EnvQuiet: "1", EnvFresh: "1"},
			want: func(o *Options) {
				o.Dir, o.HSPort, o.FedPort, o.ASPort, o.ChatPort = "/tmp/d", 1, 2, 3, 4
				o.DendriteBin, o.RathausBin, o.Quiet, o.Fresh = "/x/dendrite", "/x/rathaus", true, true
			}},
		{name: "fresh flag", args: []string{"-fresh"}, want: func(o *Options) { o.Fresh = true }},
		{name: "flags win", env: map[string]string{EnvHSPort: "1"}, args: []string{"-hs-port", "5", "-rathaus", "bin/rathaus"},
			want: func(o *Options) { o.HSPort, o.RathausBin = 5, "bin/rathaus" }},
		{name: "chat port flag", env: map[string]string{EnvChatPort: "4"}, args: []string{"-chat-port", "39332"},
			want: func(o *Options) { o.ChatPort = 39332 }},
		{name: "bad port", env: map[string]string{EnvFedPort: "achtzig"}, wantErr: EnvFedPort},
		{name: "bad chat port", env: map[string]string{EnvChatPort: "0"}, wantErr: EnvChatPort},
		{name: "port out of range", args: []string{"-as-port", "70000"}, wantErr: "as-port"},
		{name: "same port twice", args: []string{"-as-port", "8008"}, wantErr: "both 8008"},
		{name: "chat on the appservice port", args: []string{"-chat-port", "29330"}, wantErr: "-as-port and -chat-port are both 29330"},
		{name: "stray argument", args: []string{"los"}, wantErr: "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, name := range []string{EnvDir, EnvHSPort, EnvFedPort, EnvASPort, EnvChatPort, EnvDendriteBin, EnvRathausBin, EnvQuiet, EnvFresh} {
				t.Setenv(name, tc.env[name])
			}
			opts, err := parseOptions(tc.args, io.Discard, io.Discard)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			want := Options{Dir: DefaultDir, HSPort: DefaultHSPort, FedPort: DefaultFedPort, ASPort: DefaultASPort, ChatPort: DefaultChatPort,
				RathausBin: defaultRathausBin(), DendriteBin: DefaultDendriteBin, Stdout: io.Discard, Stderr: io.Discard}
			tc.want(&want)
			assert.Equal(t, want, opts)
		})
	}
}

func TestServerNameFollowsFederationPort(t *testing.T) {
	opts := Options{HSPort: 8008, FedPort: 8448, ASPort: 29330, ChatPort: 29332}
	assert.Equal(t, "localhost:8448", opts.ServerName())
	assert.Equal(t, "http://127.0.0.1:8008", opts.HomeserverURL())
	assert.Equal(t, "127.0.0.1:29330", opts.ASListen())
	assert.Equal(t, "127.0.0.1:29332", opts.ChatListen())
}

// With the default chat port the demo listens where rathaus's default
// does, so a config.yaml without guest_chat.listen fits it.
func TestDefaultChatPortIsRathausDefault(t *testing.T) {
	assert.Equal(t, config.DefaultGuestListen, Options{ChatPort: DefaultChatPort}.ChatListen())
}

func TestPrefixedKeepsLinesWhole(t *testing.T) {
	var buf bytes.Buffer
	c := newConsole(&buf)
	w := c.Prefixed("rathaus | ")
	for _, chunk := range []string{"eins\nzw", "ei", "\n", "drei\nvier"} {
		n, err := w.Write([]byte(chunk))
		require.NoError(t, err)
		assert.Equal(t, len(chunk), n)
	}
	assert.Equal(t, "rathaus | eins\nrathaus | zwei\nrathaus | drei\n", buf.String(), "a partial line waits for its end")
}
