package jwtauth_test

import (
	"errors"
	"testing"
	"testing/synctest"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vivremotion/gateway/auth"
	"github.com/vivremotion/gateway/auth/jwtauth"
)

// The examples of RFC 7515 Appendix A. Their tokens expire in 2011
// (exp 1300819380); they are checked inside a synctest bubble, whose clock
// starts at 2000-01-01.
const (
	rfcPayload = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"

	// A.1: HS256, header {"typ":"JWT",\r\n "alg":"HS256"}. The same token
	// is the example of RFC 7519 section 3.1.
	rfcA1JWK   = `{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}`
	rfcA1Token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." + rfcPayload + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

	// A.2: RS256.
	rfcA2JWK   = `{"kty":"RSA","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"}`
	rfcA2Token = "eyJhbGciOiJSUzI1NiJ9." + rfcPayload + ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"

	// A.3: ES256, with its public key as a JWK and as PEM.
	rfcA3JWK   = `{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`
	rfcA3Token = "eyJhbGciOiJFUzI1NiJ9." + rfcPayload + ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
	rfcA3PEM   = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV7
6e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==
-----END PUBLIC KEY-----
`
)

func TestRFC7515Examples(t *testing.T) {
	pemKey := must(jwtauth.ParsePEM("", "ES256", []byte(rfcA3PEM)))
	for _, tc := range []struct {
		name, jwk, alg, token string
		key                   *jwtauth.Key
	}{
		{name: "A.1 HS256", jwk: rfcA1JWK, alg: "HS256", token: rfcA1Token},
		{name: "A.2 RS256", jwk: rfcA2JWK, alg: "RS256", token: rfcA2Token},
		{name: "A.3 ES256", jwk: rfcA3JWK, alg: "ES256", token: rfcA3Token},
		{name: "A.3 ES256 from PEM", alg: "ES256", token: rfcA3Token, key: &pemKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var k jwtauth.Key
			if tc.key != nil {
				k = *tc.key
			} else {
				k = must(jwtauth.ParseJWK([]byte(tc.jwk), tc.alg))
			}
			if k.Algorithm != tc.alg {
				t.Fatalf("ParseJWK: Algorithm = %q; want %q", k.Algorithm, tc.alg)
			}
			a := newAuth(t, jwtauth.Config{Keys: []jwtauth.Key{k}, Issuer: "joe"})
			synctest.Test(t, func(t *testing.T) {
				p, err := a.Authenticate(request(tc.token))
				if err != nil {
					t.Fatalf("Authenticate(RFC 7515 %s) = %v; want the example to verify", tc.name, err)
				}
				if p.Claims["iss"] != "joe" || p.Claims["http://example.com/is_root"] != true || p.Method != "jwt" {
					t.Errorf("Principal = %+v; want the example's claims", p)
				}
				// One bit changed in the signature's last character.
				bad := tc.token[:len(tc.token)-1] + string(tc.token[len(tc.token)-1]^1)
				if _, err := a.Authenticate(request(bad)); err == nil {
					t.Errorf("Authenticate(tampered %s) = nil error; want rejection", tc.name)
				}
			})
			// On the real clock, the example expired in 2011.
			_, err := a.Authenticate(request(tc.token))
			wantCode(t, err, auth.CodeInvalidToken, jwt.ErrTokenExpired)
		})
	}
}

// TestRFC7519Example checks the example JWT of RFC 7519 section 3.1 (the
// token of RFC 7515 A.1): its typ, its registered and private claims.
func TestRFC7519Example(t *testing.T) {
	k := must(jwtauth.ParseJWK([]byte(rfcA1JWK), "HS256"))
	a := newAuth(t, jwtauth.Config{Keys: []jwtauth.Key{k}, Issuer: "joe", Type: "JWT"})
	other := newAuth(t, jwtauth.Config{Keys: []jwtauth.Key{k}, Issuer: "joe", Type: "at+jwt"})
	synctest.Test(t, func(t *testing.T) {
		p, err := a.Authenticate(request(rfcA1Token))
		if err != nil {
			t.Fatalf("Authenticate(RFC 7519 3.1) = %v", err)
		}
		if got := p.Claims["exp"]; got != float64(1300819380) {
			t.Errorf(`Claims["exp"] = %v; want 1300819380`, got)
		}
		if _, err := other.Authenticate(request(rfcA1Token)); !errors.Is(err, jwtauth.ErrType) {
			t.Errorf("Authenticate(typ JWT, Type at+jwt) = %v; want ErrType", err)
		}
	})
}

// TestRFC7517Examples parses the JWK Set of RFC 7517 Appendix A.1 (an
// encryption key, left out, and an RS256 key) and the symmetric keys of
// A.3 (one for key wrapping, left out; the HMAC key of RFC 7515 A.1).
func TestRFC7517Examples(t *testing.T) {
	const a1 = `{"keys":[
	 {"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","use":"enc","kid":"1"},
	 {"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}]}`
	keys, err := jwtauth.ParseJWKSet([]byte(a1))
	if err != nil {
		t.Fatalf("ParseJWKSet(RFC 7517 A.1) = %v", err)
	}
	if len(keys) != 1 || keys[0].ID != "2011-04-29" || keys[0].Algorithm != "RS256" {
		t.Fatalf("ParseJWKSet(RFC 7517 A.1) = %+v; want the RS256 key only", keys)
	}
	// The EC key alone is for encryption.
	if _, err := jwtauth.ParseJWK([]byte(`{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","use":"enc","kid":"1"}`)); !errors.Is(err, jwtauth.ErrSkipped) {
		t.Errorf("ParseJWK(use enc) = %v; want ErrSkipped", err)
	}
	const a3 = `{"keys":[
	 {"kty":"oct","alg":"A128KW","k":"GawgguFyGrWKav7AX4VKUg"},
	 {"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow","kid":"HMAC key used in JWS spec Appendix A.1 example"}]}`
	keys, err = jwtauth.ParseJWKSet([]byte(a3), "HS256")
	if err != nil {
		t.Fatalf("ParseJWKSet(RFC 7517 A.3) = %v", err)
	}
	if len(keys) != 1 || keys[0].Algorithm != "HS256" || len(keys[0].Material.([]byte)) != 64 {
		t.Fatalf("ParseJWKSet(RFC 7517 A.3) = %+v; want the HMAC key only, as HS256", keys)
	}
	// Without a default algorithm, the HMAC key has none: left out.
	if keys, err := jwtauth.ParseJWKSet([]byte(a3)); err != nil || len(keys) != 0 {
		t.Errorf("ParseJWKSet(RFC 7517 A.3, no default) = %v, %v; want no key", keys, err)
	}
}
