package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// role is what a caller may do. Each role may do everything the roles
// below it may.
type role int

const (
	// rolePublic needs no key: GET /healthz, so that load balancers and
	// orchestrators can probe the service.
	rolePublic role = iota
	// roleRead may search and get products.
	roleRead
	// roleWrite may also put and delete products.
	roleWrite
	// roleAdmin may also read the metrics and save the catalog.
	roleAdmin
)

var roleNames = map[role]string{rolePublic: "public", roleRead: "read", roleWrite: "write", roleAdmin: "admin"}

func (r role) String() string { return roleNames[r] }

// parseRole reads a key's role: read, write or admin.
func parseRole(s string) (role, error) {
	for _, r := range []role{roleRead, roleWrite, roleAdmin} {
		if s == r.String() {
			return r, nil
		}
	}
	return 0, fmt.Errorf("role must be read, write or admin, got %q", s)
}

// Names a caller has in logs and metrics when it has no key of its own.
const (
	// anonymous is every caller of a service that has no keys.
	anonymous = "anonymous"
	// noKey is a caller that presented no valid key to a service that has
	// keys: it is refused.
	noKey = "none"
)

// minSecretLen is the shortest secret a key may have: 16 characters of
// base64 are 96 bits, beyond guessing at any request rate.
const minSecretLen = 16

var (
	// keyName is what a key's name may look like: it is written to logs
	// and metric labels.
	keyName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	// keySecret is the token68 syntax of RFC 9110, the credentials of a
	// Bearer Authorization header: base64, base64url and hex secrets fit.
	keySecret = regexp.MustCompile(`^[A-Za-z0-9._~+/-]+=*$`)
)

// apiKey is one caller the service knows. The secret itself is not kept,
// only its SHA-256, so that every comparison is over 32 bytes and takes the
// same time whatever the secret's length.
type apiKey struct {
	name string
	role role
	sum  [sha256.Size]byte
}

// keyring is the service's keys. Empty, the service authenticates no one
// and every caller is anonymous with every role.
type keyring struct {
	keys []apiKey
}

// open reports whether the service runs without keys.
func (k *keyring) open() bool { return len(k.keys) == 0 }

// add adds a key, refusing a bad name, role or secret, and a name or secret
// that is already in the ring.
func (k *keyring) add(name, roleName, secret string) error {
	switch {
	case !keyName.MatchString(name):
		return fmt.Errorf("key name %q: want 1 to 64 letters, digits, '.', '_' or '-'", name)
	case name == anonymous || name == noKey:
		return fmt.Errorf("key name %q is reserved", name)
	case len(secret) < minSecretLen:
		return fmt.Errorf("key %q: the secret has %d characters, want at least %d (e.g. openssl rand -base64 32)", name, len(secret), minSecretLen)
	case !keySecret.MatchString(secret):
		return fmt.Errorf("key %q: the secret must be base64, base64url or hex (the token68 characters of a Bearer header)", name)
	}
	r, err := parseRole(roleName)
	if err != nil {
		return fmt.Errorf("key %q: %w", name, err)
	}
	sum := sha256.Sum256([]byte(secret))
	for _, o := range k.keys {
		if o.name == name {
			return fmt.Errorf("key name %q given twice", name)
		}
		if o.sum == sum {
			return fmt.Errorf("keys %q and %q have the same secret", o.name, name)
		}
	}
	k.keys = append(k.keys, apiKey{name: name, role: r, sum: sum})
	return nil
}

// parseKeyList adds the keys of a -keys value: name:role:secret entries
// separated by commas. A secret holds neither ':' nor ',', so the split is
// never ambiguous.
func (k *keyring) parseKeyList(list string) error {
	for entry := range strings.SplitSeq(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		f := strings.Split(entry, ":")
		if len(f) != 3 {
			// Never echo the entry: it holds a secret.
			return fmt.Errorf("-keys: an entry has %d ':'-separated fields, want name:role:secret", len(f))
		}
		if err := k.add(f[0], f[1], f[2]); err != nil {
			return fmt.Errorf("-keys: %w", err)
		}
	}
	return nil
}

// readKeyFile adds the keys of a key file: one key a line, its name, role
// and secret separated by spaces or tabs; blank lines and lines starting
// with '#' are skipped.
func (k *keyring) readKeyFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("-key-file: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return fmt.Errorf("-key-file %s line %d: %d fields, want name, role and secret", path, n, len(f))
		}
		if err := k.add(f[0], f[1], f[2]); err != nil {
			return fmt.Errorf("-key-file %s line %d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("-key-file %s: %w", path, err)
	}
	return nil
}

// Why a request was not authenticated.
var (
	// errNoKey reports a request without a Bearer Authorization header.
	errNoKey = errors.New("no key: send Authorization: Bearer <key>")
	// errBadKey reports a Bearer key the service does not know.
	errBadKey = errors.New("the key is not valid")
)

// identify returns the key an Authorization header presents. It compares
// the presented secret's SHA-256 with every key's in constant time, all of
// them whatever matches, so the time taken tells nothing of which key is
// near.
func (k *keyring) identify(authorization string) (apiKey, error) {
	scheme, secret, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return apiKey{name: noKey}, errNoKey
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(secret)))
	found := -1
	for i := range k.keys {
		eq := subtle.ConstantTimeCompare(sum[:], k.keys[i].sum[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return apiKey{name: noKey}, errBadKey
	}
	return k.keys[found], nil
}

// allNames lists the keys' names.
func (k *keyring) allNames() []string {
	out := make([]string, len(k.keys))
	for i, key := range k.keys {
		out[i] = key.name
	}
	return out
}

// names lists the keys' names by role, for the start-up log.
func (k *keyring) names() map[string][]string {
	out := map[string][]string{}
	for _, key := range k.keys {
		out[key.role.String()] = append(out[key.role.String()], key.name)
	}
	return out
}
