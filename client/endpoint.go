package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/clouddrive/clouddrive/acd"
)

// EndpointCache stores discovered endpoints between Client lifetimes. key
// is the bootstrap URL (Client.BaseURL), so one cache can serve several
// servers. Implementations must be safe for concurrent use.
type EndpointCache interface {
	// LoadEndpoint returns the endpoint stored for key and when it was
	// fetched; ok is false when there is none.
	LoadEndpoint(ctx context.Context, key string) (ep acd.Endpoint, fetched time.Time, ok bool, err error)
	// SaveEndpoint stores ep for key.
	SaveEndpoint(ctx context.Context, key string, ep acd.Endpoint, fetched time.Time) error
}

type noCache struct{}

func (noCache) LoadEndpoint(context.Context, string) (acd.Endpoint, time.Time, bool, error) {
	return acd.Endpoint{}, time.Time{}, false, nil
}

func (noCache) SaveEndpoint(context.Context, string, acd.Endpoint, time.Time) error { return nil }

// FileEndpointCache is an EndpointCache in one JSON file, written with
// mode 0600 through a temporary file and a rename.
type FileEndpointCache struct {
	Path string
	mu   sync.Mutex
}

type endpointFile map[string]endpointEntry

type endpointEntry struct {
	acd.Endpoint
	Fetched time.Time `json:"fetched"`
}

func (f *FileEndpointCache) read() (endpointFile, error) {
	raw, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return endpointFile{}, nil
	}
	if err != nil {
		return nil, err
	}
	m := endpointFile{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return endpointFile{}, nil // a corrupt cache is an empty one
	}
	return m, nil
}

// LoadEndpoint implements EndpointCache.
func (f *FileEndpointCache) LoadEndpoint(_ context.Context, key string) (acd.Endpoint, time.Time, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	if err != nil {
		return acd.Endpoint{}, time.Time{}, false, err
	}
	e, ok := m[key]
	return e.Endpoint, e.Fetched, ok, nil
}

// SaveEndpoint implements EndpointCache.
func (f *FileEndpointCache) SaveEndpoint(_ context.Context, key string, ep acd.Endpoint, fetched time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	if err != nil {
		return err
	}
	m[key] = endpointEntry{Endpoint: ep, Fetched: fetched.UTC()}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(f.Path, raw, 0o600)
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory and a rename, creating the directory (0700) if needed.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Endpoint returns the metadata and content URLs the client uses,
// discovering them if needed.
func (c *Client) Endpoint(ctx context.Context) (acd.Endpoint, error) {
	m, ct, err := c.endpoints(ctx)
	if err != nil {
		return acd.Endpoint{}, err
	}
	return acd.Endpoint{CustomerExists: true, MetadataURL: m.String(), ContentURL: ct.String()}, nil
}

// RefreshEndpoint asks account/endpoint again, ignoring any cache.
func (c *Client) RefreshEndpoint(ctx context.Context) (acd.Endpoint, error) {
	c.mu.Lock()
	c.metadata, c.content = nil, nil
	c.mu.Unlock()
	return c.discover(ctx, false)
}

func (c *Client) endpoints(ctx context.Context) (*url.URL, *url.URL, error) {
	c.mu.Lock()
	m, ct, at := c.metadata, c.content, c.fetched
	c.mu.Unlock()
	if m != nil && c.now().Sub(at) < c.endpointTTL {
		return m, ct, nil
	}
	if _, err := c.discover(ctx, true); err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.metadata, c.content, nil
}

// discover fills in the endpoint URLs, from the cache when useCache and
// the entry is fresh, else from GET account/endpoint.
func (c *Client) discover(ctx context.Context, useCache bool) (acd.Endpoint, error) {
	key := c.bootstrap.String()
	if useCache {
		ep, at, ok, err := c.cache.LoadEndpoint(ctx, key)
		if err != nil {
			c.log.WarnContext(ctx, "endpoint cache unreadable", "err", err)
		} else if ok && c.now().Sub(at) < c.endpointTTL {
			if err := c.setEndpoint(ep, at); err == nil {
				return ep, nil
			}
		}
	}
	var ep acd.Endpoint
	if err := c.call(ctx, &request{op: "client.Endpoint", method: "GET", base: bootstrapBase, path: "account/endpoint", idempotent: true}, &ep); err != nil {
		return acd.Endpoint{}, err
	}
	at := c.now()
	if err := c.setEndpoint(ep, at); err != nil {
		return acd.Endpoint{}, err
	}
	if err := c.cache.SaveEndpoint(ctx, key, ep, at); err != nil {
		c.log.WarnContext(ctx, "endpoint cache not written", "err", err)
	}
	return ep, nil
}

func (c *Client) setEndpoint(ep acd.Endpoint, at time.Time) error {
	m, err := parseBase(ep.MetadataURL)
	if err != nil {
		return fmt.Errorf("client.Endpoint: metadataUrl: %w", err)
	}
	ct, err := parseBase(ep.ContentURL)
	if err != nil {
		return fmt.Errorf("client.Endpoint: contentUrl: %w", err)
	}
	c.mu.Lock()
	c.metadata, c.content, c.fetched = m, ct, at
	c.mu.Unlock()
	return nil
}
