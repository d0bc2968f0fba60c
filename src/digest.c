/*
 * The content digest of a system version, with the SHA-256 of OpenSSL's
 * libcrypto (its EVP interface): the only file that includes an OpenSSL
 * header.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#include "digest.h"
#include "validate.h"

#define DIGEST_PREFIX	"sha256:"
/* Bytes of one service as hashed: name, 0x00, decimal version, 0x0A. */
#define DIGEST_LINE_MAX	(SERVICE_NAME_MAX + 1 + UINT_DIGITS_MAX + 1)

static pthread_once_t	 digest_once = PTHREAD_ONCE_INIT;
static EVP_MD		*sha256;	/* fetched once, for every thread; NULL: failed */

/*
 * Starts libcrypto without the system's openssl.cnf, which nothing of a
 * SHA-256 needs (reading it maps and keeps more of the library in each
 * worker), and fetches SHA-256 once rather than on every digest.
 */
static void
digest_start(void)
{
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) == 1)
		sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/*
 * Hashes entry i of list into ctx as one line: its name, 0x00, its
 * version in decimal, 0x0A; false when libcrypto fails.
 */
static bool
hash_service(EVP_MD_CTX *ctx, const struct service_list *list, size_t i)
{
	char line[DIGEST_LINE_MAX];
	size_t n = list->items[i].name_len;

	/* the list's names are validated: never longer than SERVICE_NAME_MAX */
	if (n > SERVICE_NAME_MAX)
		return false;
	memcpy(line, service_list_name(list, i), n);
	line[n++] = '\0';
	n += format_uint(list->items[i].version, line + n);
	line[n++] = '\n';
	return EVP_DigestUpdate(ctx, line, n) == 1;
}

bool
digest_services(const struct service_list *list, char text[DIGEST_TEXT_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_MD_CTX *ctx;
	bool ok = false;
	char *p;

	text[0] = '\0';
	if (pthread_once(&digest_once, digest_start) != 0 || sha256 == NULL)
		return false;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, sha256, NULL) != 1)
		goto done;
	for (size_t i = 0; i < list->count; i++)
		if (!hash_service(ctx, list, i))
			goto done;
	if (EVP_DigestFinal_ex(ctx, md, &md_len) != 1 ||
	    sizeof(DIGEST_PREFIX) - 1 + 2 * (size_t)md_len + 1 !=
	    DIGEST_TEXT_SIZE)
		goto done;
	memcpy(text, DIGEST_PREFIX, sizeof(DIGEST_PREFIX) - 1);
	p = text + sizeof(DIGEST_PREFIX) - 1;
	for (unsigned int i = 0; i < md_len; i++) {
		*p++ = hex[md[i] >> 4];
		*p++ = hex[md[i] & 0xf];
	}
	*p = '\0';
	ok = true;
done:
	EVP_MD_CTX_free(ctx);
	return ok;
}
