package webkit

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
)

// AssetServer serves a widget's own assets and, under KitDir/, the kit. It
// is an http.Handler for the path below the assets prefix (use
// http.StripPrefix). Every file gets a strong ETag and Cache-Control:
// no-cache: modules import each other without a version, so browsers must
// revalidate every time, and the ETag makes that cheap (304). Unknown
// paths, directories included, are 404.
type AssetServer struct {
	own, kit http.Handler
	etags    map[string]string
	version  string
}

// NewAssetServer hashes every file once. version (the build's) is the
// start of Version.
func NewAssetServer(own fs.FS, version string) *AssetServer {
	a := &AssetServer{own: http.FileServerFS(own), kit: http.FileServerFS(Assets), etags: map[string]string{}}
	all := sha256.New()
	hashAll(own, "", a.etags, all)
	hashAll(Assets, KitDir+"/", a.etags, all)
	a.version = version + "-" + hex.EncodeToString(all.Sum(nil)[:4])
	return a
}

// Version is the build's version plus a hash of every asset: pages append
// it to the URLs of their entry points (?v=) so an upgrade is fetched.
func (a *AssetServer) Version() string { return a.version }

// ServeHTTP serves r.URL.Path ("app.js", "kit/dom.js").
func (a *AssetServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tag, ok := a.etags[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", tag)
	if rest, ok := strings.CutPrefix(r.URL.Path, KitDir+"/"); ok {
		r2 := r.Clone(r.Context())
		r2.URL.Path = rest
		a.kit.ServeHTTP(w, r2)
		return
	}
	a.own.ServeHTTP(w, r)
}

// hashAll records the ETag of every file of files under prefix and feeds
// their hashes, in name order, into all.
func hashAll(files fs.FS, prefix string, etags map[string]string, all interface{ Write([]byte) (int, error) }) {
	var names []string
	_ = fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, name)
		}
		return nil
	})
	sort.Strings(names)
	for _, name := range names {
		data, err := fs.ReadFile(files, name)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(data)
		etags[path.Join(prefix, name)] = `"` + hex.EncodeToString(sum[:8]) + `"`
		_, _ = all.Write(sum[:])
	}
}
