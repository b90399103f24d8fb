package widgetauth_test

import (
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/appservice/openid"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/internal/tesths"
	"github.com/rathaus-de/rathaus/widgets/internal/widgetauth"
)

// TestRealHomeservers signs widget users in with real OpenID tokens from
// Dendrite and Synapse, side by side: a room on each, created by a lead
// whose client answers the membership questions (as the bot does in
// rathaus), with a caseworker at PL 50, a member at PL 0 and a stranger.
func TestRealHomeservers(t *testing.T) {
	var opts []tesths.Options
	for _, kind := range tesths.Kinds() {
		opts = append(opts, tesths.Options{Kind: kind})
	}
	hss := tesths.StartMixed(t, opts...)
	var certs []*x509.Certificate
	for _, hs := range hss {
		certs = append(certs, hs.Certificate(t))
	}
	ver, err := openid.New(openid.Options{Logger: zerolog.Nop(), ExtraRootCAs: certs,
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	require.NoError(t, err)

	for i, hs := range hss {
		other := hss[(i+1)%len(hss)]
		t.Run(string(hs.Kind), func(t *testing.T) {
			ctx := t.Context()
			lead, _, _ := hs.RegisterUser(t, "lead", false)
			staffCli, staffID, _ := hs.RegisterUser(t, "anna", false)
			readerCli, readerID, _ := hs.RegisterUser(t, "ben", false)
			strangerCli, _, _ := hs.RegisterUser(t, "carla", false)

			created, err := lead.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Name: "Fall 2026-0001",
				Invite: []id.UserID{staffID, readerID}})
			require.NoError(t, err)
			caseRoom := created.RoomID
			for _, cli := range []*mautrix.Client{staffCli, readerCli} {
				_, err = cli.JoinRoomByID(ctx, caseRoom)
				require.NoError(t, err)
			}
			var pl event.PowerLevelsEventContent
			require.NoError(t, lead.StateEvent(ctx, caseRoom, event.StatePowerLevels, "", &pl))
			pl.SetUserLevel(staffID, 50)
			_, err = lead.SendStateEvent(ctx, caseRoom, event.StatePowerLevels, "", &pl)
			require.NoError(t, err)

			auth, err := widgetauth.New(widgetauth.Options{
				Widget:           "ticket",
				Verifier:         ver,
				Rooms:            widgetauth.ClientRooms{Client: lead},
				IsAppserviceUser: func(u id.UserID) bool { return u.Localpart() == "rathaus" },
				Policy:           widgetauth.AnyMember,
				RecheckTTL:       time.Second,
				Log:              zerolog.Nop(),
			})
			require.NoError(t, err)
			srv := httptest.NewServer(routes(auth))
			t.Cleanup(srv.Close)

			openidToken := func(cli *mautrix.Client) string {
				resp, err := cli.RequestOpenIDToken(ctx)
				require.NoError(t, err)
				require.NotEmpty(t, resp.AccessToken)
				return resp.AccessToken
			}
			signIn := func(token, serverName string) answer {
				return do(t, srv.URL, http.MethodPost, "/session", "", "application/json", signInBody(token, serverName, caseRoom))
			}
			act := func(session string) answer {
				return do(t, srv.URL, http.MethodPost, "/status", session, "", "")
			}

			// The caseworker signs in with a real token and acts.
			staffToken := openidToken(staffCli)
			a := signIn(staffToken, hs.ServerName)
			require.Equal(t, http.StatusOK, a.status, "%v", a.body)
			assert.Equal(t, string(staffID), a.body["user_id"])
			assert.EqualValues(t, 50, a.body["power_level"])
			staffSession := a.body["session"].(string)
			a = act(staffSession)
			require.Equal(t, http.StatusOK, a.status, "%v", a.body)
			assert.Equal(t, string(caseRoom), a.body["room_id"])

			// A member at PL 0 signs in but may not take a staff action.
			a = signIn(openidToken(readerCli), hs.ServerName)
			require.Equal(t, http.StatusOK, a.status, "%v", a.body)
			assert.EqualValues(t, 0, a.body["power_level"])
			readerSession := a.body["session"].(string)
			a = act(readerSession)
			assert.Equal(t, http.StatusForbidden, a.status)
			assert.Equal(t, widgetauth.CodeForbidden, a.errcode)
			assert.Equal(t, http.StatusOK, do(t, srv.URL, http.MethodGet, "/ticket", readerSession, "", "").status)

			// A user of the server who is not in the room.
			a = signIn(openidToken(strangerCli), hs.ServerName)
			assert.Equal(t, http.StatusForbidden, a.status)
			assert.Equal(t, widgetauth.CodeNotMember, a.errcode)

			// The caseworker's token presented as one of the other server: that
			// server does not know it.
			a = signIn(staffToken, other.ServerName)
			assert.Equal(t, http.StatusUnauthorized, a.status)
			assert.Equal(t, httpapi.CodeUnauthorized, a.errcode)

			// Kicked: the still valid session stops working within RecheckTTL.
			_, err = lead.KickUser(ctx, caseRoom, &mautrix.ReqKickUser{UserID: staffID, Reason: "Fall abgegeben"})
			require.NoError(t, err)
			kicked := time.Now()
			tesths.WaitFor(t, 5*time.Second, "the kicked caseworker's action to be refused", func() error {
				if a := act(staffSession); a.status != http.StatusForbidden || a.errcode != widgetauth.CodeNotMember {
					return &httpapi.Error{Status: a.status, ErrCode: a.errcode}
				}
				return nil
			})
			assert.Less(t, time.Since(kicked), 3*time.Second, "refused later than RecheckTTL allows")
			a = signIn(openidToken(staffCli), hs.ServerName)
			assert.Equal(t, http.StatusForbidden, a.status, "the kicked caseworker signed in again")
		})
	}
}
