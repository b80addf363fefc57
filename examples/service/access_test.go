package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
)

// The test keys' secrets: long enough for the service, and each distinct.
const (
	readSecret  = "r3ad-0nly-t0ken-for-tests-aaaaaaaa"
	writeSecret = "wr1te-t0ken-for-tests-bbbbbbbbbbbb"
	adminSecret = "adm1n-t0ken-for-tests-cccccccccccc"
	wrongSecret = "n0t-a-key-of-this-service-dddddddd"
)

// keyedConfig is testConfig with a key of each role: reader, writer, admin.
func keyedConfig(t testing.TB) config {
	t.Helper()
	cfg := testConfig(t)
	require.NoError(t, cfg.Access.Keys.parseKeyList("reader:read:"+readSecret+",writer:write:"+writeSecret+",admin:admin:"+adminSecret))
	return cfg
}

// callAs is call with an Authorization: Bearer header; a blank secret sends
// none.
func callAs(t testing.TB, srv *httptest.Server, secret, method, path, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	require.NoError(t, err)
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

// errorCode returns the code of an error body.
func errorCode(t testing.TB, body []byte) string {
	t.Helper()
	var e errorBody
	require.NoError(t, json.Unmarshal(body, &e), "error bodies are JSON: %s", body)
	return e.Error.Code
}

// Every endpoint, called by each kind of caller: without a key, with a key
// the service does not know, and with a key of each role. A caller whose
// role is enough gets the endpoint's answer; a refused write leaves the
// catalog as it was.
func TestRoles(t *testing.T) {
	endpoints := []struct {
		method, path, body string
		need               role
		ok                 int
	}{
		{"GET", "/healthz", "", rolePublic, 200},
		{"GET", "/products/boot-01", "", roleRead, 200},
		{"POST", "/search", `{"query":"waterproof boots","history_ids":["shoe-01"],"top_n":2}`, roleRead, 200},
		{"PUT", "/products", `{"products":[{"id":"gaiter-01","title":"Waterproof Gaiters"}]}`, roleWrite, 200},
		{"DELETE", "/products/boot-02", "", roleWrite, 204},
		{"GET", "/metrics", "", roleAdmin, 200},
		{"POST", "/save", "", roleAdmin, 200},
		// No route takes these, but only a caller with a key learns so.
		{"GET", "/nothing", "", roleRead, 404},
		{"GET", "/search", "", roleRead, 405},
	}
	callers := []struct {
		name, secret string
		role         role
		// refusal is the status and code of a caller without a role.
		status int
		code   string
	}{
		{"no key", "", 0, 401, "unauthenticated"},
		{"unknown key", wrongSecret, 0, 401, "invalid_key"},
		{"reader", readSecret, roleRead, 403, "forbidden"},
		{"writer", writeSecret, roleWrite, 403, "forbidden"},
		{"admin", adminSecret, roleAdmin, 403, "forbidden"},
	}
	for _, c := range callers {
		for _, e := range endpoints {
			t.Run(c.name+" "+e.method+" "+e.path, func(t *testing.T) {
				cfg := keyedConfig(t)
				cfg.Catalog = filepath.Join(t.TempDir(), "shop.hmpps")
				srv, eng := newTestServer(t, cfg)
				status, header, body := callAs(t, srv, c.secret, e.method, e.path, e.body)
				if e.need == rolePublic || (c.role != 0 && c.role >= e.need) {
					require.Equal(t, e.ok, status, "%s", body)
					return
				}
				require.Equal(t, c.status, status, "%s", body)
				assert.Equal(t, c.code, errorCode(t, body))
				if status == 401 {
					assert.Contains(t, header.Get("WWW-Authenticate"), `Bearer realm="hmpps"`)
				}
				// Nothing a refused request asked for happened.
				assert.Equal(t, 54, eng.Len())
				_, err := eng.Get(context.Background(), "boot-02")
				assert.NoError(t, err, "boot-02 is still there")
				_, err = os.Stat(cfg.Catalog)
				assert.ErrorIs(t, err, os.ErrNotExist, "nothing was saved")
			})
		}
	}
}

// Without keys, every caller is anonymous and may do everything, as the
// service always did on loopback; a key sent anyway is ignored.
func TestNoKeysIsOpen(t *testing.T) {
	srv, _ := newTestServer(t, testConfig(t))
	for _, secret := range []string{"", wrongSecret} {
		status, _, b := callAs(t, srv, secret, "PUT", "/products", `{"products":[{"id":"gaiter-01","title":"Waterproof Gaiters"}]}`)
		assert.Equal(t, 200, status, "%s", b)
		status, _, _ = callAs(t, srv, secret, "GET", "/metrics", "")
		assert.Equal(t, 200, status)
	}
}

// Two Authorization headers could be read differently by a proxy and the
// service: refused.
func TestTwoAuthorizationHeaders(t *testing.T) {
	srv, _ := newTestServer(t, keyedConfig(t))
	req, err := http.NewRequest("GET", srv.URL+"/products/boot-01", nil)
	require.NoError(t, err)
	req.Header.Add("Authorization", "Bearer "+readSecret)
	req.Header.Add("Authorization", "Bearer "+adminSecret)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, 401, resp.StatusCode)
	assert.Equal(t, "invalid_key", errorCode(t, b))
}

func TestKeyList(t *testing.T) {
	long := strings.Repeat("k", minSecretLen)
	tests := []struct {
		name, list string
		want       map[string][]string
		wantErr    string
	}{
		{name: "one of each", list: "web:read:" + long + "a, feed:write:" + long + "b,ops:admin:" + long + "c",
			want: map[string][]string{"read": {"web"}, "write": {"feed"}, "admin": {"ops"}}},
		{name: "base64 secret", list: "web:read:q8W0+/p3Zx9d2LkT0m7a1Q==", want: map[string][]string{"read": {"web"}}},
		{name: "blank", list: "", want: map[string][]string{}},
		{name: "unknown role", list: "web:owner:" + long, wantErr: `role must be read, write or admin`},
		{name: "short secret", list: "web:read:tooshort", wantErr: "at least 16"},
		{name: "secret with a space", list: "web:read:" + long + " x", wantErr: "base64"},
		{name: "two fields", list: "web:" + long, wantErr: "name:role:secret"},
		{name: "secret with a colon", list: "web:read:" + long + ":x", wantErr: "name:role:secret"},
		{name: "bad name", list: "web shop:read:" + long, wantErr: "key name"},
		{name: "reserved name", list: "none:read:" + long, wantErr: "reserved"},
		{name: "name twice", list: "web:read:" + long + "a,web:write:" + long + "b", wantErr: "given twice"},
		{name: "secret twice", list: "web:read:" + long + ",feed:write:" + long, wantErr: "same secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var k keyring
			err := k.parseKeyList(tt.list)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.NotContains(t, err.Error(), long, "an error never shows a secret")
				assert.NotContains(t, err.Error(), "tooshort")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, k.names())
		})
	}
}

func TestKeyFile(t *testing.T) {
	write := func(t *testing.T, text string) string {
		path := filepath.Join(t.TempDir(), "keys")
		require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
		return path
	}
	t.Run("comments, blank lines, tabs", func(t *testing.T) {
		path := write(t, "# name  role   secret\n\nshop-web\tread\t"+readSecret+"\n  ops admin "+adminSecret+"  \n")
		cfg, err := parseConfig([]string{"-key-file", path}, func(string) string { return "" }, io.Discard)
		require.NoError(t, err)
		assert.Equal(t, map[string][]string{"read": {"shop-web"}, "admin": {"ops"}}, cfg.Access.Keys.names())
	})
	t.Run("with the environment's keys", func(t *testing.T) {
		path := write(t, "ops admin "+adminSecret+"\n")
		env := func(k string) string {
			if k == "HMPPS_KEYS" {
				return "feed:write:" + writeSecret
			}
			return ""
		}
		cfg, err := parseConfig([]string{"-key-file", path}, env, io.Discard)
		require.NoError(t, err)
		assert.Equal(t, map[string][]string{"write": {"feed"}, "admin": {"ops"}}, cfg.Access.Keys.names())
	})
	for name, text := range map[string]string{
		"two fields":   "ops " + adminSecret + "\n",
		"bad role":     "ops root " + adminSecret + "\n",
		"name twice":   "ops admin " + adminSecret + "\nops read " + readSecret + "\n",
		"short secret": "ops admin abc\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseConfig([]string{"-key-file", write(t, text)}, func(string) string { return "" }, io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "line ")
			assert.NotContains(t, err.Error(), adminSecret)
		})
	}
	t.Run("missing", func(t *testing.T) {
		_, err := parseConfig([]string{"-key-file", filepath.Join(t.TempDir(), "nope")}, func(string) string { return "" }, io.Discard)
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
}

// The service refuses to listen beyond loopback without keys, unless told
// that a proxy in front authenticates.
func TestRefusesExposedWithoutKeys(t *testing.T) {
	tests := []struct {
		args    []string
		exposed bool
	}{
		{[]string{}, false}, // the default, 127.0.0.1:8080
		{[]string{"-addr", "127.0.0.1:0"}, false},
		{[]string{"-addr", "127.8.9.10:0"}, false},
		{[]string{"-addr", "[::1]:0"}, false},
		{[]string{"-addr", "localhost:0"}, false},
		{[]string{"-addr", ":8080"}, true},
		{[]string{"-addr", "0.0.0.0:8080"}, true},
		{[]string{"-addr", "[::]:8080"}, true},
		{[]string{"-addr", "192.168.1.10:8080"}, true},
		{[]string{"-addr", "shop.example:8080"}, true},
		{[]string{"-addr", ":8080", "-behind-auth-proxy"}, false},
		{[]string{"-addr", ":8080", "-keys", "web:read:" + readSecret}, false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := parseConfig(tt.args, func(string) string { return "" }, io.Discard)
			if !tt.exposed {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, errExposed)
			assert.Contains(t, err.Error(), "-behind-auth-proxy")
		})
	}
	t.Run("environment", func(t *testing.T) {
		env := map[string]string{"HMPPS_ADDR": ":8080"}
		_, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
		assert.ErrorIs(t, err, errExposed)
		env["HMPPS_BEHIND_AUTH_PROXY"] = "true"
		_, err = parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
		assert.NoError(t, err)
	})
	t.Run("run checks too", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.Addr = "0.0.0.0:0"
		err := run(context.Background(), cfg, slog.New(slog.DiscardHandler), func(string) { t.Error("run listened") })
		assert.ErrorIs(t, err, errExposed)
	})
	t.Run("bad address", func(t *testing.T) {
		_, err := parseConfig([]string{"-addr", "8080"}, func(string) string { return "" }, io.Discard)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "host:port")
	})
}

// The log names the caller's key, never its secret, nor the secret of a
// key the service refused.
func TestKeysNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := keyedConfig(t)
	logAccess(log, cfg)
	eng := openDemo(t)
	t.Cleanup(func() { eng.Close() })
	srv := httptest.NewServer(newServer(eng, cfg, log))
	t.Cleanup(srv.Close)
	for _, secret := range []string{readSecret, writeSecret, adminSecret, wrongSecret} {
		callAs(t, srv, secret, "POST", "/search", `{"query":"boots"}`)
		callAs(t, srv, secret, "PUT", "/products", `{"products":[{"id":"x"}]}`) // a 400 for a writer
	}
	text := logs.String()
	for _, secret := range []string{readSecret, writeSecret, adminSecret, wrongSecret} {
		assert.NotContains(t, text, secret)
		assert.NotContains(t, text, secret[:8], "not even a prefix")
	}
	for _, name := range []string{"key=reader", "key=writer", "key=admin", "key=none", "read=[reader]"} {
		assert.Contains(t, text, name)
	}
}

// Rejections are counted by reason and by the caller's key name.
func TestRejectionMetrics(t *testing.T) {
	cfg := keyedConfig(t)
	srv, _ := newTestServer(t, cfg, hmpps.WithLimits(hmpps.Limits{}))
	callAs(t, srv, "", "GET", "/products/boot-01", "")
	callAs(t, srv, wrongSecret, "GET", "/products/boot-01", "")
	callAs(t, srv, readSecret, "PUT", "/products", `{"products":[]}`)
	callAs(t, srv, readSecret, "PUT", "/products", `{"products":[]}`)
	callAs(t, srv, writeSecret, "PUT", "/products", `{"products":[]}`)
	callAs(t, srv, readSecret, "POST", "/search", `{"query":"boots","query":"socks"}`)
	callAs(t, srv, readSecret, "GET", "/products/boot-01", "") // not a rejection

	status, _, body := callAs(t, srv, adminSecret, "GET", "/metrics", "")
	require.Equal(t, 200, status)
	fams, err := parseExposition(string(body))
	require.NoError(t, err, "%s", body)
	for _, c := range []struct {
		reason, key string
		n           float64
	}{
		{"unauthenticated", "none", 1},
		{"invalid_key", "none", 1},
		{"forbidden", "reader", 2},
		{"bad_request", "writer", 1},
		{"bad_request", "reader", 1},
	} {
		assert.Equal(t, c.n, find(t, fams, "hmpps_http_rejections_total", map[string]string{"reason": c.reason, "key": c.key}), "%+v", c)
	}
	assert.Len(t, fams["hmpps_http_rejections_total"].samples, 5)
	assert.Equal(t, 0.0, find(t, fams, "hmpps_searches_running", nil))
	assert.Equal(t, 0.0, find(t, fams, "hmpps_searches_waiting", nil))
}
