package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// minRSABits refuses RSA keys too short to trust; Entra ID publishes 2048.
const minRSABits = 2048

// jwk is one key of a JWK Set (RFC 7517) as Entra ID publishes them; fields
// we do not use (x5c, x5t, issuer) are ignored.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// publicKey is a verification key with the one algorithm it may verify, so
// that a key is never used with another algorithm than its type allows.
type publicKey struct {
	alg string
	key any
}

// parseJWKS returns the usable signature keys of a JWK Set by kid. Keys we
// cannot use (encryption keys, other types or curves, no kid) are skipped,
// not fatal: a set may legitimately hold them. A set with no usable key is
// an error, because replacing a good cache with it would lock everyone out.
func parseJWKS(body []byte) (map[string]publicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("jwks: decode: %w", err)
	}
	keys := make(map[string]publicKey, len(set.Keys))
	var skipped []error
	for i, raw := range set.Keys {
		var k jwk
		if err := json.Unmarshal(raw, &k); err != nil {
			skipped = append(skipped, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		pk, err := k.publicKey()
		if err != nil {
			skipped = append(skipped, fmt.Errorf("key %d (kid %q): %w", i, k.Kid, err))
			continue
		}
		if _, dup := keys[k.Kid]; !dup {
			keys[k.Kid] = pk
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("jwks: no usable signature key among %d: %w", len(set.Keys), errors.Join(skipped...))
	}
	return keys, nil
}

func (k jwk) publicKey() (publicKey, error) {
	if k.Kid == "" {
		return publicKey{}, errors.New("no kid")
	}
	if k.Use != "" && k.Use != "sig" {
		return publicKey{}, fmt.Errorf("use %q is not sig", k.Use)
	}
	switch k.Kty {
	case "RSA":
		if k.Alg != "" && k.Alg != "RS256" {
			return publicKey{}, fmt.Errorf("alg %q is not supported", k.Alg)
		}
		key, err := k.rsa()
		return publicKey{alg: "RS256", key: key}, err
	case "EC":
		if k.Alg != "" && k.Alg != "ES256" {
			return publicKey{}, fmt.Errorf("alg %q is not supported", k.Alg)
		}
		key, err := k.ecdsa()
		return publicKey{alg: "ES256", key: key}, err
	}
	return publicKey{}, fmt.Errorf("kty %q is not supported", k.Kty)
}

func (k jwk) rsa() (*rsa.PublicKey, error) {
	n, err := decodeB64(k.N)
	if err != nil {
		return nil, fmt.Errorf("n: %w", err)
	}
	e, err := decodeB64(k.E)
	if err != nil {
		return nil, fmt.Errorf("e: %w", err)
	}
	key := &rsa.PublicKey{N: new(big.Int).SetBytes(n)}
	if key.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("modulus of %d bits is shorter than %d", key.N.BitLen(), minRSABits)
	}
	if len(e) == 0 || len(e) > 4 {
		return nil, errors.New("exponent is out of range")
	}
	for _, b := range e {
		key.E = key.E<<8 | int(b)
	}
	if key.E < 3 || key.E%2 == 0 {
		return nil, errors.New("exponent is invalid")
	}
	return key, nil
}

func (k jwk) ecdsa() (*ecdsa.PublicKey, error) {
	if k.Crv != "P-256" {
		return nil, fmt.Errorf("crv %q is not supported", k.Crv)
	}
	x, err := decodeB64(k.X)
	if err != nil {
		return nil, fmt.Errorf("x: %w", err)
	}
	y, err := decodeB64(k.Y)
	if err != nil {
		return nil, fmt.Errorf("y: %w", err)
	}
	if len(x) != 32 || len(y) != 32 {
		return nil, errors.New("coordinates are not 32 bytes")
	}
	// ParseUncompressedPublicKey checks that the point is on the curve, so a
	// crafted key cannot be used for invalid-curve attacks.
	point := append(append([]byte{4}, x...), y...)
	return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
}

// decodeB64 reads base64url without padding (RFC 7515 §2), tolerating the
// padding some publishers add anyway.
func decodeB64(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty")
	}
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
