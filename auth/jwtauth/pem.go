package jwtauth

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// ParsePEM reads a public key for id, pinned to alg, from PEM data: a
// "PUBLIC KEY" (PKIX: RSA, ECDSA or Ed25519), an "RSA PUBLIC KEY"
// (PKCS #1) or a "CERTIFICATE" whose public key is taken. The data must
// hold exactly one PEM block. The key is checked against alg as [New]
// would check it.
func ParsePEM(id, alg string, data []byte) (Key, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return Key{}, fmt.Errorf("%w: key %q: no PEM block", ErrKey, id)
	}
	if next, _ := pem.Decode(rest); next != nil {
		return Key{}, fmt.Errorf("%w: key %q: more than one PEM block", ErrKey, id)
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		cert, err = x509.ParseCertificate(block.Bytes)
		if err == nil {
			pub = cert.PublicKey
		}
	default:
		return Key{}, fmt.Errorf("%w: key %q: PEM block %q is not a public key or certificate", ErrKey, id, block.Type)
	}
	if err != nil {
		return Key{}, fmt.Errorf("%w: key %q: %v", ErrKey, id, err)
	}
	k := Key{ID: id, Algorithm: alg, Material: pub}
	if _, err := k.check(); err != nil {
		return Key{}, err
	}
	return k, nil
}
