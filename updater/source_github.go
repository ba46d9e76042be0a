package updater

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"
)

// GitHubSource reads releases from GitHub Releases (or GitHub Enterprise)
// through go-github. Small assets (manifests, key lists) go through the
// API's asset download, which redirects to storage; artifacts are fetched
// from the same asset URL with a Range header, so downloads resume.
type GitHubSource struct {
	Owner, Repo string
	client      *github.Client
	http        *http.Client
	token       string
}

type ghAsset struct {
	id  int64
	url string // API URL of the asset
}

// MaxGitHubReleases is how many of the newest releases are looked at.
const MaxGitHubReleases = 20

func newGitHubSource(owner, repo string, o SourceOptions) (*GitHubSource, error) {
	c := github.NewClient(o.HTTP)
	if o.GitHubAPI != "" {
		api := o.GitHubAPI
		if !strings.HasSuffix(api, "/") {
			api += "/"
		}
		var err error
		if c, err = c.WithEnterpriseURLs(api, api); err != nil {
			return nil, fmt.Errorf("github api url %q: %w", o.GitHubAPI, err)
		}
	}
	if o.Token != "" {
		c = c.WithAuthToken(o.Token)
	}
	return &GitHubSource{Owner: owner, Repo: repo, client: c, http: o.HTTP, token: o.Token}, nil
}

func (s *GitHubSource) String() string { return "github://" + s.Owner + "/" + s.Repo }

func (s *GitHubSource) list(ctx context.Context) ([]*github.RepositoryRelease, error) {
	rels, _, err := s.client.Repositories.ListReleases(ctx, s.Owner, s.Repo, &github.ListOptions{PerPage: MaxGitHubReleases})
	if err != nil {
		return nil, fmt.Errorf("list releases of %s: %w", s, err)
	}
	return rels, nil
}

func assetsOf(r *github.RepositoryRelease) map[string]ghAsset {
	m := map[string]ghAsset{}
	for _, a := range r.Assets {
		m[a.GetName()] = ghAsset{id: a.GetID(), url: a.GetURL()}
	}
	return m
}

func (s *GitHubSource) download(ctx context.Context, id int64) ([]byte, error) {
	rc, redirect, err := s.client.Repositories.DownloadReleaseAsset(ctx, s.Owner, s.Repo, id, s.http)
	if err != nil {
		return nil, fmt.Errorf("download asset %d of %s: %w", id, s, err)
	}
	if rc == nil {
		return httpGetSmall(ctx, s.http, redirect, nil)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("download asset %d of %s: %w", id, s, err)
	}
	if len(b) > MaxDocumentSize {
		return nil, fmt.Errorf("download asset %d of %s: larger than %d bytes", id, s, MaxDocumentSize)
	}
	return b, nil
}

func (s *GitHubSource) signedAsset(ctx context.Context, assets map[string]ghAsset, name string) (Signed, bool, error) {
	d, ok1 := assets[name]
	sg, ok2 := assets[name+".minisig"]
	if !ok1 || !ok2 {
		return Signed{}, false, nil
	}
	data, err := s.download(ctx, d.id)
	if err != nil {
		return Signed{}, true, err
	}
	sig, err := s.download(ctx, sg.id)
	if err != nil {
		return Signed{}, true, err
	}
	return Signed{Data: data, Sig: sig}, true, nil
}

// KeyList returns keys.json from the newest release that carries it.
func (s *GitHubSource) KeyList(ctx context.Context) (Signed, error) {
	rels, err := s.list(ctx)
	if err != nil {
		return Signed{}, err
	}
	for _, r := range rels {
		if r.GetDraft() {
			continue
		}
		sg, ok, err := s.signedAsset(ctx, assetsOf(r), "keys.json")
		if ok {
			return sg, err
		}
	}
	return Signed{}, fmt.Errorf("%s: no release carries keys.json and keys.json.minisig", s)
}

// Releases returns the signed manifests of the newest non-draft releases.
func (s *GitHubSource) Releases(ctx context.Context) ([]Release, error) {
	rels, err := s.list(ctx)
	if err != nil {
		return nil, err
	}
	var out []Release
	for _, r := range rels {
		if r.GetDraft() {
			continue
		}
		assets := assetsOf(r)
		sg, ok, err := s.signedAsset(ctx, assets, "manifest.json")
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // not a shir release
		}
		out = append(out, Release{Manifest: sg, Location: r.GetTagName(), Name: r.GetTagName(), assets: assets})
	}
	return out, nil
}

// Open fetches an artifact: a relative URL names an asset of the release.
func (s *GitHubSource) Open(ctx context.Context, rel Release, a Artifact, offset int64) (io.ReadCloser, int64, error) {
	if strings.Contains(a.URL, "://") {
		return httpOpen(ctx, s.http, a.URL, nil, offset)
	}
	as, ok := rel.assets[a.URL]
	if !ok {
		return nil, 0, fmt.Errorf("release %s of %s has no asset %q", rel.Name, s, a.URL)
	}
	hdr := http.Header{"Accept": {"application/octet-stream"}}
	if s.token != "" {
		hdr.Set("Authorization", "Bearer "+s.token) // httpOpen drops it on redirects
	}
	return httpOpen(ctx, s.http, as.url, hdr, offset)
}
