/*
 * The content digest of a system version: the only module that uses
 * OpenSSL's libcrypto.
 */
#ifndef RELEASEMGR_DIGEST_H
#define RELEASEMGR_DIGEST_H

#include <stdbool.h>

#include "model.h"

/* Bytes of a digest's text: "sha256:", 64 lowercase hex digits and a NUL. */
#define DIGEST_TEXT_SIZE	72

/*
 * Writes into text the digest of list: "sha256:" and the SHA-256 of its
 * services in the list's order (name order), each as its name's bytes,
 * one 0x00 byte, its version in decimal and one 0x0A byte. An empty
 * list's is the SHA-256 of nothing, so two lists with the same services
 * have the same digest, whatever made them. False, text empty, when
 * libcrypto fails (memory ran out).
 */
bool	digest_services(const struct service_list *list,
	    char text[DIGEST_TEXT_SIZE]);

#endif
