package appservice

import (
	"context"
	"errors"
	"io"
	"net/http"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// Download fetches a file from the media repository through authenticated
// media (Matrix v1.11) and, on servers without it, the older
// unauthenticated endpoint. The caller closes the body.
func Download(ctx context.Context, cli *mautrix.Client, uri id.ContentURIString) (io.ReadCloser, error) {
	parsed, err := uri.Parse()
	if err != nil {
		return nil, err
	}
	resp, err := cli.Download(ctx, parsed)
	var httpErr mautrix.HTTPError
	if err != nil && errors.As(err, &httpErr) && httpErr.Response != nil &&
		(httpErr.Response.StatusCode == http.StatusNotFound || httpErr.Response.StatusCode == http.StatusMethodNotAllowed) &&
		(httpErr.RespError == nil || httpErr.RespError.ErrCode == "M_UNRECOGNIZED") {
		legacy := cli.BuildURL(mautrix.MediaURLPath{"v3", "download", parsed.Homeserver, parsed.FileID})
		_, resp, err = cli.MakeFullRequestWithResp(ctx, mautrix.FullRequest{Method: http.MethodGet, URL: legacy, DontReadResponse: true})
	}
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
