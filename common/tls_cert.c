/* tls_cert.c - the lab's self-signed certificate, <home>/tls/lab.crt and
 * lab.key, created with OpenSSL on first use (ECDSA P-256, CN=ctdlab, SAN
 * localhost and 127.0.0.1, valid 10 years). P-256 rather than RSA 2048: the
 * key is made in well under a millisecond instead of 50 ms to seconds (the
 * first start of a lab waited on it), and each handshake signs faster. Every
 * client the lab meets (curl, browsers, OpenSSL, GnuTLS) takes it; a lab
 * made with the older RSA pair keeps it.
 *
 * Several daemons may start at once on a fresh home. The creator holds an
 * flock on <home>/tls/.lock (released by the kernel if it dies) and
 * publishes each file by rename, key first, so whoever sees lab.crt can read
 * a complete pair; the others wait on the lock and then read the winner's. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "http_server.h"
#include "log.h"

#define CERT_DAYS (10L * 365 + 2)

static int add_ext(X509 *crt, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, crt, crt, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;
	int ok = X509_add_ext(crt, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* Like `openssl req -x509`: a self-signed CA certificate that is also the
 * server's, so clients can pin lab.crt as their trust anchor. */
static X509 *make_cert(EVP_PKEY *key)
{
	X509 *crt = X509_new();
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int ok = crt && RAND_bytes(serial, sizeof serial) == 1;
	if (ok) {
		serial[0] &= 0x7f; /* positive */
		bn = BN_bin2bn(serial, sizeof serial, NULL);
		ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(crt)) &&
		     X509_set_version(crt, 2) &&
		     X509_gmtime_adj(X509_getm_notBefore(crt), -3600) &&
		     X509_gmtime_adj(X509_getm_notAfter(crt), CERT_DAYS * 24 * 3600) &&
		     X509_set_pubkey(crt, key);
	}
	BN_free(bn);
	X509_NAME *name = ok ? X509_get_subject_name(crt) : NULL;
	ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					      (const unsigned char *)"ctdlab", -1, -1, 0) &&
	     X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
					(const unsigned char *)"ctdlab", -1, -1, 0) &&
	     X509_set_issuer_name(crt, name);
	ok = ok && add_ext(crt, NID_basic_constraints, "critical,CA:TRUE") == 0 &&
	     add_ext(crt, NID_key_usage,
		     "critical,digitalSignature,keyCertSign") == 0 &&
	     add_ext(crt, NID_ext_key_usage, "serverAuth,clientAuth") == 0 &&
	     add_ext(crt, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") == 0 &&
	     add_ext(crt, NID_subject_key_identifier, "hash") == 0 &&
	     add_ext(crt, NID_authority_key_identifier, "keyid:always") == 0 &&
	     X509_sign(crt, key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(crt);
		return NULL;
	}
	return crt;
}

static char *bio_text(BIO *bio)
{
	char *mem;
	long n = BIO_get_mem_data(bio, &mem);
	return n > 0 ? xstrndup(mem, (size_t)n) : NULL;
}

/* A fresh key and certificate as PEM text. */
static int generate(char **cert_pem, char **key_pem, ctd_err *err)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *crt = key ? make_cert(key) : NULL;
	BIO *cbio = BIO_new(BIO_s_mem()), *kbio = BIO_new(BIO_s_mem());
	int ok = crt && cbio && kbio && PEM_write_bio_X509(cbio, crt) &&
		 PEM_write_bio_PrivateKey(kbio, key, NULL, NULL, 0, NULL, NULL);
	*cert_pem = ok ? bio_text(cbio) : NULL;
	*key_pem = ok ? bio_text(kbio) : NULL;
	BIO_free(cbio);
	BIO_free(kbio);
	X509_free(crt);
	EVP_PKEY_free(key);
	if (!*cert_pem || !*key_pem) {
		free(*cert_pem);
		free(*key_pem);
		*cert_pem = *key_pem = NULL;
		return ctd_fail(err, CTD_EINTERNAL, "cannot generate the lab certificate");
	}
	return 0;
}

/* Read the published pair; -1 when lab.crt (the commit mark) is missing. */
static int read_pair(const char *crt_path, const char *key_path, char **cert_pem,
		     char **key_pem)
{
	if (file_read(crt_path, cert_pem, NULL, NULL) != 0)
		return -1;
	if (file_read(key_path, key_pem, NULL, NULL) != 0) {
		free(*cert_pem);
		*cert_pem = NULL;
		return -1;
	}
	return 0;
}

static int create_locked(const char *dir, const char *crt_path, const char *key_path,
			 char **cert_pem, char **key_pem, ctd_err *err)
{
	char *lock_path = xasprintf("%s/.lock", dir);
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	int rc = -1;
	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		ctd_fail(err, CTD_EIO, "%s: %s", lock_path, strerror(errno));
		goto out;
	}
	/* someone else may have finished while we waited */
	if (read_pair(crt_path, key_path, cert_pem, key_pem) == 0) {
		rc = 0;
		goto out;
	}
	if (generate(cert_pem, key_pem, err) != 0)
		goto out;
	if (file_write_atomic(key_path, *key_pem, strlen(*key_pem), 0600, err) != 0 ||
	    file_write_atomic(crt_path, *cert_pem, strlen(*cert_pem), 0600, err) != 0) {
		free(*cert_pem);
		free(*key_pem);
		*cert_pem = *key_pem = NULL;
		goto out;
	}
	log_info("tls.cert_created", "path=%s", crt_path);
	rc = 0;
out:
	if (fd >= 0)
		close(fd); /* releases the lock */
	free(lock_path);
	return rc;
}

int tls_lab_cert(const char *home, char **cert_pem, char **key_pem, ctd_err *err)
{
	char *dir = xasprintf("%s/tls", home);
	char *crt_path = xasprintf("%s/lab.crt", dir);
	char *key_path = xasprintf("%s/lab.key", dir);
	int rc = 0;
	*cert_pem = *key_pem = NULL;
	if (read_pair(crt_path, key_path, cert_pem, key_pem) != 0) {
		rc = mkdir_p(dir, 0700, err);
		if (rc == 0)
			rc = create_locked(dir, crt_path, key_path, cert_pem, key_pem, err);
	}
	free(dir);
	free(crt_path);
	free(key_path);
	return rc;
}
