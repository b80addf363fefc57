package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and localhost,
// and its key, as PEM files in dir, made by the standard library; it
// returns their paths and the pool a client trusts it with.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{Organization: []string{"hmpps test"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// With -tls-cert and -tls-key the service serves HTTPS, and with a key
// file it authenticates over it: the set-up of a service exposed without
// a proxy in front.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	keys := filepath.Join(dir, "keys")
	require.NoError(t, os.WriteFile(keys, []byte("shop-web read "+readSecret+"\nfeed write "+writeSecret+"\n"), 0o600))
	base, stop, done := startRun(t, "-tls-cert", certFile, "-tls-key", keyFile, "-key-file", keys)
	defer func() {
		stop()
		require.NoError(t, <-done)
	}()
	base = strings.Replace(base, "http://", "https://", 1)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()

	send := func(secret, method, path, body string) (*http.Response, string) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		if secret != "" {
			req.Header.Set("Authorization", "Bearer "+secret)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}
	resp, _ := send("", "GET", "/healthz", "")
	require.Equal(t, 200, resp.StatusCode)
	require.NotNil(t, resp.TLS)
	assert.GreaterOrEqual(t, resp.TLS.Version, uint16(tls.VersionTLS12))
	resp, body := send(readSecret, "POST", "/search", `{"query":"waterproof boots","top_n":1}`)
	assert.Equal(t, 200, resp.StatusCode, body)
	resp, _ = send(readSecret, "DELETE", "/products/boot-01", "")
	assert.Equal(t, 403, resp.StatusCode)
	resp, _ = send(writeSecret, "DELETE", "/products/boot-01", "")
	assert.Equal(t, 204, resp.StatusCode)

	// A client that does not trust the certificate cannot talk to it, and
	// plain HTTP on the TLS port is refused.
	_, err := http.Get(base + "/healthz")
	require.Error(t, err)
	var unknownCA x509.UnknownAuthorityError
	assert.ErrorAs(t, err, &unknownCA)
	plain, err := http.Get(strings.Replace(base, "https://", "http://", 1) + "/healthz")
	require.NoError(t, err)
	plain.Body.Close()
	assert.Equal(t, http.StatusBadRequest, plain.StatusCode)
}

func TestTLSRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir)
	_, otherKey, _ := selfSigned(t, t.TempDir())
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"certificate without key", []string{"-tls-cert", certFile}, "give both or neither"},
		{"key of another certificate", []string{"-tls-cert", certFile, "-tls-key", otherKey}, "private key does not match"},
		{"missing file", []string{"-tls-cert", filepath.Join(dir, "nope.pem"), "-tls-key", keyFile}, "no such file"},
		{"key as certificate", []string{"-tls-cert", keyFile, "-tls-key", keyFile}, "tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(append([]string{"-addr", "127.0.0.1:0"}, tt.args...), func(string) string { return "" }, io.Discard)
			if err == nil {
				err = run(t.Context(), cfg, slog.New(slog.DiscardHandler), func(string) { t.Error("run listened") })
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
