/*
 * The json suite: json_parse_deploy over a table of bodies, good and bad,
 * and the renderers, whose output is compared byte for byte and parsed
 * back with json-c. Each body is copied into a buffer of exactly its
 * length, so a read past it is caught under AddressSanitizer and valgrind.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "json_parse.h"
#include "json_string.h"
#include "tests.h"
#include "validate.h"

/* Which metadata members a good body carries. */
#define MD_DEPLOYED_BY	0x1
#define MD_REASON	0x2
#define MD_RELEASE_HASH	0x4

struct deploy_case {
	const char		*label;
	const char		*body;
	size_t			 len;
	bool			 ok;
	/* when not ok */
	enum problem_kind	 kind;
	const char		*field;		/* NULL: no member is named */
	/* when ok */
	const char		*name;
	size_t			 name_len;
	uint64_t		 version;
	const char		*environment;
	unsigned		 metadata;
};

#define GOOD(label, body, name, version, env, md) \
	{ label, LIT(body), true, PROBLEM_INVALID_JSON, NULL, LIT(name), \
	  version, env, md }
#define BAD_JSON(label, body) \
	{ label, LIT(body), false, PROBLEM_INVALID_JSON, NULL, NULL, 0, 0, \
	  NULL, 0 }
#define BAD_FIELD(label, body, field) \
	{ label, LIT(body), false, PROBLEM_INVALID_FIELD, field, NULL, 0, 0, \
	  NULL, 0 }

/* Copies of a string literal, to spell a long body byte for byte. */
#define X2(s)	s s
#define X4(s)	s s s s
#define X16(s)	X4(s) X4(s) X4(s) X4(s)
#define X64(s)	X16(s) X16(s) X16(s) X16(s)
#define X128(s)	X64(s) X64(s)
#define X256(s)	X128(s) X128(s)

static const struct deploy_case deploy_cases[] = {
	/* accepted bodies, with what they decode to */
	GOOD("seed body", "{\"name\": \"Service A\", \"version\": 1}",
	    "Service A", 1, "default", 0),
	GOOD("seed body B", "{\"name\": \"Service B\", \"version\": 1}",
	    "Service B", 1, "default", 0),
	GOOD("aliases", "{\"serviceName\": \"svc\", \"serviceVersionNumber\": 2}",
	    "svc", 2, "default", 0),
	GOOD("name + serviceVersionNumber",
	    "{\"name\":\"svc\",\"serviceVersionNumber\":3}", "svc", 3, "default", 0),
	GOOD("serviceName + version", "{\"serviceName\":\"svc\",\"version\":4}",
	    "svc", 4, "default", 0),
	GOOD("members in any order",
	    "{\"version\":5,\"environment\":\"prod\",\"name\":\"svc\"}",
	    "svc", 5, "prod", 0),
	GOOD("version 0", "{\"name\":\"a\",\"version\":0}", "a", 0, "default", 0),
	GOOD("version 2^53 - 1", "{\"name\":\"a\",\"version\":9007199254740991}",
	    "a", UINT64_C(9007199254740991), "default", 0),
	GOOD("version -0, the integer 0 in JSON",
	    "{\"name\":\"a\",\"version\":-0}", "a", 0, "default", 0),
	GOOD("whitespace around and inside",
	    " \t\r\n{ \"name\" :\t\"a\" ,\n\r\"version\" : 1 }\r\n\t ",
	    "a", 1, "default", 0),
	GOOD("unknown members ignored",
	    "{\"name\":\"a\",\"extra\":{\"nested\":[1,2.5,-3e-2,null,true,false,"
	    "{\"x\":\"y\"},[],{}]},\"version\":7,\"foo\":null,\"bar\":"
	    "\"\\u0000\\ud83d\\ude00\",\"baz\":true}",
	    "a", 7, "default", 0),
	GOOD("known names nested in an unknown member are not members",
	    "{\"x\":{\"name\":1,\"name\":2,\"version\":\"v\",\"environment\":\"a b\"},"
	    "\"name\":\"a\",\"version\":1,\"y\":[{\"version\":null}]}",
	    "a", 1, "default", 0),
	/* an export's own members are unknown members of a body */
	GOOD("systemVersion, createdAt, previousVersion twice",
	    "{\"name\":\"a\",\"version\":1,\"systemVersion\":1,"
	    "\"systemVersion\":\"x\",\"createdAt\":1,\"createdAt\":null,"
	    "\"previousVersion\":[],\"previousVersion\":2}",
	    "a", 1, "default", 0),
	GOOD("duplicate unknown member", "{\"x\":1,\"x\":2,\"name\":\"a\","
	    "\"version\":1}", "a", 1, "default", 0),
	GOOD("member names are case-sensitive",
	    "{\"Name\":\"zzz\",\"name\":\"a\",\"VERSION\":\"x\",\"version\":1,"
	    "\"Environment\":\"a b\"}", "a", 1, "default", 0),
	GOOD("empty member name", "{\"\":1,\"name\":\"a\",\"version\":1}",
	    "a", 1, "default", 0),
	GOOD("surrogate pair U+1F600", "{\"name\":\"\\ud83d\\ude00\",\"version\":1}",
	    "\xf0\x9f\x98\x80", 1, "default", 0),
	GOOD("surrogate pair U+10FFFF, upper case",
	    "{\"name\":\"x\\uDBFF\\uDFFF\",\"version\":1}",
	    "x\xf4\x8f\xbf\xbf", 1, "default", 0),
	GOOD("escapes in name",
	    "{\"name\":\"q\\\"b\\\\s\\/\\u00e9\\u20AC\",\"version\":1}",
	    "q\"b\\s/\xc3\xa9\xe2\x82\xac", 1, "default", 0),
	GOOD("raw UTF-8 in name", "{\"name\":\"Dienst \xc3\xa9\xf0\x9f\x98\x80\","
	    "\"version\":1}", "Dienst \xc3\xa9\xf0\x9f\x98\x80", 1, "default", 0),
	GOOD("large numbers in unknown members",
	    "{\"name\":\"a\",\"version\":1,\"big\":123456789012345678901234567890,"
	    "\"huge\":1E400,\"neg\":-0.0e-5,\"small\":-123456789012345678901234567}",
	    "a", 1, "default", 0),
	GOOD("environment given", "{\"name\":\"a\",\"version\":1,"
	    "\"environment\":\"staging_1.x-y\"}", "a", 1, "staging_1.x-y", 0),
	GOOD("environment default given",
	    "{\"name\":\"a\",\"version\":1,\"environment\":\"default\"}",
	    "a", 1, "default", 0),
	GOOD("all metadata", "{\"name\":\"a\",\"version\":1,\"deployedBy\":\"ci\","
	    "\"reason\":\"\",\"releaseHash\":\"abc\"}", "a", 1, "default",
	    MD_DEPLOYED_BY | MD_REASON | MD_RELEASE_HASH),
	GOOD("deployedBy only", "{\"name\":\"a\",\"version\":1,"
	    "\"deployedBy\":\"J\xc3\xbcrgen\"}", "a", 1, "default", MD_DEPLOYED_BY),
	GOOD("reason and releaseHash", "{\"releaseHash\":\"0f\",\"reason\":"
	    "\"fix\",\"name\":\"a\",\"version\":1}", "a", 1, "default",
	    MD_REASON | MD_RELEASE_HASH),

	/*
	 * Boundary values accepted, once in tests/e2e/test_validation.py:
	 * its labels and bodies, in the environment "ok".
	 */
	GOOD("name a single space", "{\"environment\":\"ok\",\"name\":\" \","
	    "\"version\":1}", " ", 1, "ok", 0),
	GOOD("name 256 bytes: 85 x U+20AC + \"a\"", "{\"environment\":\"ok\","
	    "\"name\":\"" X64("\xe2\x82\xac") X16("\xe2\x82\xac")
	    X4("\xe2\x82\xac") "\xe2\x82\xac" "a\",\"version\":1}",
	    X64("\xe2\x82\xac") X16("\xe2\x82\xac") X4("\xe2\x82\xac")
	    "\xe2\x82\xac" "a", 1, "ok", 0),
	GOOD("name 256 bytes: 64 x U+1F600 raw", "{\"environment\":\"ok\","
	    "\"name\":\"" X64("\xf0\x9f\x98\x80") "\",\"version\":1}",
	    X64("\xf0\x9f\x98\x80"), 1, "ok", 0),
	GOOD("name U+10FFFF raw", "{\"environment\":\"ok\","
	    "\"name\":\"\xf4\x8f\xbf\xbf\",\"version\":1}", "\xf4\x8f\xbf\xbf",
	    1, "ok", 0),
	GOOD("name U+FFFF", "{\"environment\":\"ok\",\"name\":\"\xef\xbf\xbf\","
	    "\"version\":1}", "\xef\xbf\xbf", 1, "ok", 0),
	GOOD("name U+0080 (outside the forbidden controls)",
	    "{\"environment\":\"ok\",\"name\":\"a\xc2\x80\",\"version\":1}",
	    "a\xc2\x80", 1, "ok", 0),
	GOOD("member name \"name\" written as \"na\\u006de\"",
	    "{\"na\\u006de\":\"svc\",\"version\":1,\"environment\":\"ok\"}",
	    "svc", 1, "ok", 0),
	GOOD("metadata at 256 bytes", "{\"environment\":\"ok\","
	    "\"name\":\"svc\",\"version\":1,\"deployedBy\":\"" X256("d") "\","
	    "\"reason\":\"" X128("\xc3\xa9") "\",\"releaseHash\":\""
	    X64("\xe2\x82\xac") X16("\xe2\x82\xac") X4("\xe2\x82\xac")
	    "\xe2\x82\xach\"}", "svc", 1, "ok",
	    MD_DEPLOYED_BY | MD_REASON | MD_RELEASE_HASH),
	GOOD("metadata empty strings", "{\"environment\":\"ok\","
	    "\"name\":\"svc\",\"version\":1,\"deployedBy\":\"\","
	    "\"reason\":\"\",\"releaseHash\":\"\"}", "svc", 1, "ok",
	    MD_DEPLOYED_BY | MD_REASON | MD_RELEASE_HASH),

	/* the members of the object */
	BAD_FIELD("name and serviceName",
	    "{\"name\":\"a\",\"serviceName\":\"a\",\"version\":1}", "serviceName"),
	BAD_FIELD("version and serviceVersionNumber",
	    "{\"name\":\"a\",\"version\":1,\"serviceVersionNumber\":1}",
	    "serviceVersionNumber"),
	BAD_FIELD("empty object", "{}", "name"),
	BAD_FIELD("missing name", "{\"version\":1}", "name"),
	BAD_FIELD("missing version", "{\"name\":\"a\"}", "version"),
	BAD_FIELD("missing version, alias name", "{\"serviceName\":\"a\"}",
	    "version"),
	BAD_FIELD("version 1.5", "{\"name\":\"a\",\"version\":1.5}", "version"),
	BAD_FIELD("version \"1\"", "{\"name\":\"a\",\"version\":\"1\"}", "version"),
	BAD_FIELD("version true", "{\"name\":\"a\",\"version\":true}", "version"),
	BAD_FIELD("version null", "{\"name\":\"a\",\"version\":null}", "version"),
	BAD_FIELD("version -1", "{\"name\":\"a\",\"version\":-1}", "version"),
	BAD_FIELD("version 1e3", "{\"name\":\"a\",\"version\":1e3}", "version"),
	BAD_FIELD("version 1E0", "{\"name\":\"a\",\"version\":1E0}", "version"),
	BAD_FIELD("version 1.0", "{\"name\":\"a\",\"version\":1.0}", "version"),
	BAD_FIELD("version 2^53", "{\"name\":\"a\",\"version\":9007199254740992}",
	    "version"),
	BAD_FIELD("version 2^63 - 1",
	    "{\"name\":\"a\",\"version\":9223372036854775807}", "version"),
	BAD_FIELD("version 2^64 - 1",
	    "{\"name\":\"a\",\"version\":18446744073709551615}", "version"),
	BAD_FIELD("version 2^64", "{\"name\":\"a\",\"version\":18446744073709551616}",
	    "version"),
	BAD_FIELD("version below -2^63",
	    "{\"name\":\"a\",\"version\":-9223372036854775809}", "version"),
	BAD_FIELD("version []", "{\"name\":\"a\",\"version\":[]}", "version"),
	BAD_FIELD("version {}", "{\"name\":\"a\",\"version\":{}}", "version"),
	BAD_FIELD("serviceVersionNumber 1.5",
	    "{\"name\":\"a\",\"serviceVersionNumber\":1.5}", "serviceVersionNumber"),
	BAD_FIELD("serviceVersionNumber null",
	    "{\"name\":\"a\",\"serviceVersionNumber\":null}", "serviceVersionNumber"),
	BAD_FIELD("name 1", "{\"name\":1,\"version\":1}", "name"),
	BAD_FIELD("name null", "{\"name\":null,\"version\":1}", "name"),
	BAD_FIELD("name true", "{\"name\":true,\"version\":1}", "name"),
	BAD_FIELD("name []", "{\"name\":[\"a\"],\"version\":1}", "name"),
	BAD_FIELD("name {}", "{\"name\":{},\"version\":1}", "name"),
	BAD_FIELD("name empty", "{\"name\":\"\",\"version\":1}", "name"),
	BAD_FIELD("serviceName empty", "{\"serviceName\":\"\",\"version\":1}",
	    "serviceName"),
	BAD_FIELD("name \\u0000", "{\"name\":\"\\u0000\",\"version\":1}", "name"),
	BAD_FIELD("name a\\u0000b", "{\"name\":\"a\\u0000b\",\"version\":1}", "name"),
	BAD_FIELD("name \\u001f", "{\"name\":\"\\u001f\",\"version\":1}", "name"),
	BAD_FIELD("name \\u007f", "{\"name\":\"a\\u007f\",\"version\":1}", "name"),
	BAD_FIELD("name \\t", "{\"name\":\"a\\tb\",\"version\":1}", "name"),
	BAD_FIELD("name \\n", "{\"name\":\"a\\n\",\"version\":1}", "name"),
	BAD_FIELD("lone surrogate \\ud800", "{\"name\":\"\\ud800\",\"version\":1}",
	    "name"),
	BAD_FIELD("lone surrogate \\udc00", "{\"name\":\"\\udc00\",\"version\":1}",
	    "name"),
	BAD_FIELD("high surrogate then \\u0041",
	    "{\"name\":\"\\ud800\\u0041\",\"version\":1}", "name"),
	BAD_FIELD("high surrogate then x", "{\"name\":\"\\ud800x\",\"version\":1}",
	    "name"),
	BAD_FIELD("high surrogate at the end",
	    "{\"name\":\"a\\udbff\",\"version\":1}", "name"),
	BAD_FIELD("two high surrogates",
	    "{\"name\":\"\\ud800\\ud800\",\"version\":1}", "name"),
	BAD_FIELD("low then high surrogate",
	    "{\"name\":\"\\udfff\\ud800\",\"version\":1}", "name"),
	BAD_FIELD("lone surrogate in serviceName",
	    "{\"serviceName\":\"\\ud800\",\"version\":1}", "serviceName"),
	BAD_FIELD("lone surrogate in reason",
	    "{\"name\":\"a\",\"version\":1,\"reason\":\"\\udc00\"}", "reason"),
	BAD_FIELD("raw C0 80 in name", "{\"name\":\"\xc0\x80\",\"version\":1}",
	    "name"),
	BAD_FIELD("raw surrogate in name", "{\"name\":\"\xed\xa0\x80\",\"version\":1}",
	    "name"),
	BAD_FIELD("raw FF in name", "{\"name\":\"a\xff\",\"version\":1}", "name"),
	BAD_FIELD("raw truncated sequence in name",
	    "{\"name\":\"\xe2\x82\",\"version\":1}", "name"),
	BAD_FIELD("raw F4 90 80 80 in name",
	    "{\"name\":\"\xf4\x90\x80\x80\",\"version\":1}", "name"),
	BAD_FIELD("raw invalid UTF-8 in serviceName",
	    "{\"serviceName\":\"\xc3\",\"version\":1}", "serviceName"),
	BAD_FIELD("name given twice", "{\"name\":\"a\",\"name\":\"b\",\"version\":1}",
	    "name"),
	BAD_FIELD("name given twice, same value",
	    "{\"name\":\"a\",\"version\":1,\"name\":\"a\"}", "name"),
	BAD_FIELD("serviceName given twice",
	    "{\"serviceName\":\"a\",\"serviceName\":\"b\",\"version\":1}",
	    "serviceName"),
	BAD_FIELD("version given twice", "{\"version\":1,\"name\":\"a\",\"version\":2}",
	    "version"),
	BAD_FIELD("environment given twice", "{\"name\":\"a\",\"version\":1,"
	    "\"environment\":\"a\",\"environment\":\"a\"}", "environment"),
	BAD_FIELD("deployedBy given twice", "{\"name\":\"a\",\"version\":1,"
	    "\"deployedBy\":\"x\",\"deployedBy\":\"y\"}", "deployedBy"),
	BAD_FIELD("environment empty",
	    "{\"name\":\"a\",\"version\":1,\"environment\":\"\"}", "environment"),
	BAD_FIELD("environment a b",
	    "{\"name\":\"a\",\"version\":1,\"environment\":\"a b\"}", "environment"),
	BAD_FIELD("environment a/b",
	    "{\"name\":\"a\",\"version\":1,\"environment\":\"a/b\"}", "environment"),
	BAD_FIELD("environment U+00E9",
	    "{\"name\":\"a\",\"version\":1,\"environment\":\"\\u00e9\"}",
	    "environment"),
	BAD_FIELD("environment 1",
	    "{\"name\":\"a\",\"version\":1,\"environment\":1}", "environment"),
	BAD_FIELD("environment null",
	    "{\"name\":\"a\",\"version\":1,\"environment\":null}", "environment"),
	BAD_FIELD("environment of 65 characters",
	    "{\"name\":\"a\",\"version\":1,\"environment\":"
	    "\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-\"}",
	    "environment"),
	BAD_FIELD("deployedBy 1",
	    "{\"name\":\"a\",\"version\":1,\"deployedBy\":1}", "deployedBy"),
	BAD_FIELD("reason null",
	    "{\"name\":\"a\",\"version\":1,\"reason\":null}", "reason"),
	BAD_FIELD("releaseHash {}",
	    "{\"name\":\"a\",\"version\":1,\"releaseHash\":{}}", "releaseHash"),
	BAD_FIELD("releaseHash true",
	    "{\"name\":\"a\",\"version\":1,\"releaseHash\":true}", "releaseHash"),
	BAD_FIELD("deployedBy with a newline",
	    "{\"name\":\"a\",\"version\":1,\"deployedBy\":\"a\\nb\"}", "deployedBy"),
	/* a report's key: eventId, sequence, deployedAt */
	BAD_FIELD("eventId empty",
	    "{\"name\":\"a\",\"version\":1,\"eventId\":\"\"}", "eventId"),
	BAD_FIELD("eventId of 129 bytes", "{\"name\":\"a\",\"version\":1,"
	    "\"eventId\":\"" X128("e") "e\"}", "eventId"),
	BAD_FIELD("eventId of 65 x U+00E9 = 130 bytes",
	    "{\"name\":\"a\",\"version\":1,\"eventId\":\"" X64("\xc3\xa9")
	    "\xc3\xa9\"}", "eventId"),
	BAD_FIELD("eventId with a tab",
	    "{\"name\":\"a\",\"version\":1,\"eventId\":\"a\\tb\"}", "eventId"),
	BAD_FIELD("eventId with \\u0000",
	    "{\"name\":\"a\",\"version\":1,\"eventId\":\"a\\u0000\"}",
	    "eventId"),
	BAD_FIELD("eventId with DEL",
	    "{\"name\":\"a\",\"version\":1,\"eventId\":\"\\u007f\"}", "eventId"),
	BAD_FIELD("eventId with a lone surrogate",
	    "{\"name\":\"a\",\"version\":1,\"eventId\":\"\\udc00\"}", "eventId"),
	BAD_FIELD("eventId 17",
	    "{\"name\":\"a\",\"version\":1,\"eventId\":17}", "eventId"),
	BAD_FIELD("eventId null",
	    "{\"name\":\"a\",\"version\":1,\"eventId\":null}", "eventId"),
	BAD_FIELD("eventId true",
	    "{\"name\":\"a\",\"version\":1,\"eventId\":true}", "eventId"),
	BAD_FIELD("eventId [\"x\"]",
	    "{\"name\":\"a\",\"version\":1,\"eventId\":[\"x\"]}", "eventId"),
	BAD_FIELD("eventId given twice", "{\"name\":\"a\",\"version\":1,"
	    "\"eventId\":\"x\",\"eventId\":\"x\"}", "eventId"),
	BAD_FIELD("sequence -1",
	    "{\"name\":\"a\",\"version\":1,\"sequence\":-1}", "sequence"),
	BAD_FIELD("sequence 2^53",
	    "{\"name\":\"a\",\"version\":1,\"sequence\":9007199254740992}",
	    "sequence"),
	BAD_FIELD("sequence 1.0",
	    "{\"name\":\"a\",\"version\":1,\"sequence\":1.0}", "sequence"),
	BAD_FIELD("sequence 1e3",
	    "{\"name\":\"a\",\"version\":1,\"sequence\":1e3}", "sequence"),
	BAD_FIELD("sequence \"17\"",
	    "{\"name\":\"a\",\"version\":1,\"sequence\":\"17\"}", "sequence"),
	BAD_FIELD("sequence null",
	    "{\"name\":\"a\",\"version\":1,\"sequence\":null}", "sequence"),
	BAD_FIELD("sequence false",
	    "{\"name\":\"a\",\"version\":1,\"sequence\":false}", "sequence"),
	BAD_FIELD("sequence given twice", "{\"name\":\"a\",\"version\":1,"
	    "\"sequence\":1,\"sequence\":1}", "sequence"),
	BAD_FIELD("deployedAt not a date",
	    "{\"name\":\"a\",\"version\":1,\"deployedAt\":\"nope\"}",
	    "deployedAt"),
	BAD_FIELD("deployedAt empty",
	    "{\"name\":\"a\",\"version\":1,\"deployedAt\":\"\"}", "deployedAt"),
	BAD_FIELD("deployedAt February 30", "{\"name\":\"a\",\"version\":1,"
	    "\"deployedAt\":\"2026-02-30T00:00:00Z\"}", "deployedAt"),
	BAD_FIELD("deployedAt without an offset", "{\"name\":\"a\","
	    "\"version\":1,\"deployedAt\":\"2026-12-06T10:15:03\"}",
	    "deployedAt"),
	BAD_FIELD("deployedAt before 1970", "{\"name\":\"a\",\"version\":1,"
	    "\"deployedAt\":\"1969-12-31T23:59:59Z\"}", "deployedAt"),
	BAD_FIELD("deployedAt as a number",
	    "{\"name\":\"a\",\"version\":1,\"deployedAt\":1765016103}",
	    "deployedAt"),
	BAD_FIELD("deployedAt null",
	    "{\"name\":\"a\",\"version\":1,\"deployedAt\":null}", "deployedAt"),
	BAD_FIELD("deployedAt given twice", "{\"name\":\"a\",\"version\":1,"
	    "\"deployedAt\":\"2026-12-06T10:15:03Z\","
	    "\"deployedAt\":\"2026-12-06T10:15:03Z\"}", "deployedAt"),
	/* the key's problems come after the report's, in the table's order */
	BAD_FIELD("a bad version, then a bad eventId",
	    "{\"eventId\":\"\",\"name\":\"a\",\"version\":-1}", "version"),
	BAD_FIELD("a bad sequence, then a bad deployedAt",
	    "{\"name\":\"a\",\"version\":1,\"deployedAt\":1,\"sequence\":-1}",
	    "sequence"),
	BAD_FIELD("a body's version null is no removal",
	    "{\"name\":\"a\",\"version\":null}", "version"),
	/*
	 * RFC 8259 compares member names after unescaping: "n\u0061me" is
	 * "name". json-c cuts a member name at \u0000, so such a name is
	 * refused rather than read as another member.
	 */
	BAD_FIELD("name given twice, once escaped",
	    "{\"name\":\"a\",\"n\\u0061me\":\"b\",\"version\":1}", "name"),
	BAD_FIELD("escaped member name with a lone surrogate",
	    "{\"n\\u0061me\":\"\\ud800\",\"version\":1}", "name"),
	BAD_JSON("a member named name\\u0000",
	    "{\"name\":\"a\",\"name\\u0000\":\"b\",\"version\":1}"),
	BAD_JSON("a member named name\\u0000x",
	    "{\"name\\u0000x\":\"b\",\"version\":1}"),
	/*
	 * A member's problem is the answer only for a body that is JSON to
	 * the end: a malformed body is refused as JSON (found by the fuzzer).
	 */
	BAD_JSON("invalid UTF-8 in name, then the end",
	    "{\"name\":\"\xc0"),
	BAD_JSON("invalid UTF-8 in name, then trailing data",
	    "{\"name\":\"\xc0\",\"version\":1} x"),
	BAD_JSON("lone surrogate in name, then an unclosed object",
	    "{\"name\":\"\\udc00\",\"version\":1"),
	BAD_JSON("name given twice, then a bad literal",
	    "{\"name\":\"a\",\"name\":\"b\",\"version\":tru}"),
	BAD_JSON("name given twice, then nesting too deep",
	    "{\"name\":\"a\",\"name\":\"b\",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	    "[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"),
	BAD_FIELD("invalid UTF-8 then a duplicate: the first problem",
	    "{\"name\":\"\xc0\",\"version\":1,\"version\":2}", "name"),
	BAD_FIELD("a duplicate then invalid UTF-8: the first problem",
	    "{\"version\":1,\"version\":2,\"name\":\"\xc0\"}", "version"),

	/*
	 * Members refused, once in tests/e2e/test_validation.py:
	 * its labels and bodies, in the environment "validation".
	 */
	BAD_FIELD("name 257 bytes: 128 x U+00E9 + \"a\"", "{\"name\":\""
	    X128("\xc3\xa9") "a\",\"version\":1,"
	    "\"environment\":\"validation\"}", "name"),
	BAD_FIELD("name 258 bytes in 86 chars (U+20AC)", "{\"name\":\""
	    X64("\xe2\x82\xac") X16("\xe2\x82\xac") X4("\xe2\x82\xac")
	    X2("\xe2\x82\xac") "\",\"version\":1,"
	    "\"environment\":\"validation\"}", "name"),
	BAD_FIELD("name 260 bytes in 65 chars (U+1F600)", "{\"name\":\""
	    X64("\xf0\x9f\x98\x80") "\xf0\x9f\x98\x80\",\"version\":1,"
	    "\"environment\":\"validation\"}", "name"),
	BAD_FIELD("name 258 bytes as escapes (129 x \\u00e9)", "{\"name\":\""
	    X128("\\u00e9") "\\u00e9\",\"version\":1,"
	    "\"environment\":\"validation\"}", "name"),
	BAD_FIELD("name escaped U+001F upper-case hex",
	    "{\"name\":\"a\\u001Fb\",\"version\":1,"
	    "\"environment\":\"validation\"}", "name"),
	BAD_FIELD("name raw DEL byte 7F", "{\"name\":\"a\x7f" "b\","
	    "\"version\":1,\"environment\":\"validation\"}", "name"),
	BAD_FIELD("name raw overlong C0 AF", "{\"name\":\"\xc0\xaf\","
	    "\"version\":1,\"environment\":\"validation\"}", "name"),
	BAD_FIELD("name raw overlong C1 81", "{\"name\":\"\xc1\x81\","
	    "\"version\":1,\"environment\":\"validation\"}", "name"),
	BAD_FIELD("name raw overlong E0 80 AF", "{\"name\":\"\xe0\x80\xaf\","
	    "\"version\":1,\"environment\":\"validation\"}", "name"),
	BAD_FIELD("name raw overlong F0 80 80 AF",
	    "{\"name\":\"\xf0\x80\x80\xaf\",\"version\":1,"
	    "\"environment\":\"validation\"}", "name"),
	BAD_FIELD("name raw CESU surrogate pair",
	    "{\"name\":\"\xed\xa0\xbd\xed\xb8\x80\",\"version\":1,"
	    "\"environment\":\"validation\"}", "name"),
	BAD_FIELD("name raw F5 lead byte", "{\"name\":\"\xf5\x80\x80\x80\","
	    "\"version\":1,\"environment\":\"validation\"}", "name"),
	BAD_FIELD("name raw lone continuation byte 80",
	    "{\"name\":\"a\x80" "b\",\"version\":1,"
	    "\"environment\":\"validation\"}", "name"),
	BAD_FIELD("name raw truncated C3 at the end", "{\"name\":\"a\xc3\","
	    "\"version\":1,\"environment\":\"validation\"}", "name"),
	BAD_FIELD("name raw 5-byte form F8 88 80 80 80",
	    "{\"name\":\"\xf8\x88\x80\x80\x80\",\"version\":1,"
	    "\"environment\":\"validation\"}", "name"),
	BAD_FIELD("name raw FE byte", "{\"name\":\"\xfe\",\"version\":1,"
	    "\"environment\":\"validation\"}", "name"),
	BAD_FIELD("version false", "{\"name\":\"svc\",\"version\":false,"
	    "\"environment\":\"validation\"}", "version"),
	BAD_FIELD("version 1E3", "{\"name\":\"svc\",\"version\":1E3,"
	    "\"environment\":\"validation\"}", "version"),
	BAD_FIELD("version 1e0", "{\"name\":\"svc\",\"version\":1e0,"
	    "\"environment\":\"validation\"}", "version"),
	BAD_FIELD("version 99999999999999999999999", "{\"name\":\"svc\","
	    "\"version\":99999999999999999999999,"
	    "\"environment\":\"validation\"}", "version"),
	BAD_FIELD("version -9007199254740991", "{\"name\":\"svc\","
	    "\"version\":-9007199254740991,\"environment\":\"validation\"}",
	    "version"),
	BAD_FIELD("environment space", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":\" \"}", "environment"),
	BAD_FIELD("environment trailing space", "{\"name\":\"svc\","
	    "\"version\":1,\"environment\":\"prod \"}", "environment"),
	BAD_FIELD("environment with a backslash", "{\"name\":\"svc\","
	    "\"version\":1,\"environment\":\"a\\\\b\"}", "environment"),
	BAD_FIELD("environment with a colon", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":\"a:b\"}", "environment"),
	BAD_FIELD("environment non-ASCII", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":\"\xc3\xa4\"}", "environment"),
	BAD_FIELD("environment escaped NUL", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":\"a\\u0000\"}", "environment"),
	BAD_FIELD("environment is true", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":true}", "environment"),
	BAD_FIELD("environment is an array", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":[\"prod\"]}", "environment"),
	BAD_FIELD("environment is an object", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":{}}", "environment"),
	BAD_FIELD("deployedBy 257 bytes: 128 x U+00E9 + \"m\"",
	    "{\"name\":\"svc\",\"version\":1,\"environment\":\"validation\","
	    "\"deployedBy\":\"" X128("\xc3\xa9") "m\"}", "deployedBy"),
	BAD_FIELD("deployedBy is true", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":\"validation\",\"deployedBy\":true}",
	    "deployedBy"),
	BAD_FIELD("deployedBy is an array", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":\"validation\",\"deployedBy\":[\"x\"]}",
	    "deployedBy"),
	BAD_FIELD("deployedBy is an object", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":\"validation\",\"deployedBy\":{\"x\": \"y\"}}",
	    "deployedBy"),
	BAD_FIELD("reason 257 bytes: 128 x U+00E9 + \"m\"", "{\"name\":\"svc\","
	    "\"version\":1,\"environment\":\"validation\",\"reason\":\""
	    X128("\xc3\xa9") "m\"}", "reason"),
	BAD_FIELD("reason is a number", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":\"validation\",\"reason\":1}", "reason"),
	BAD_FIELD("reason is true", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":\"validation\",\"reason\":true}", "reason"),
	BAD_FIELD("reason is an array", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":\"validation\",\"reason\":[\"x\"]}", "reason"),
	BAD_FIELD("reason is an object", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":\"validation\",\"reason\":{\"x\": \"y\"}}",
	    "reason"),
	BAD_FIELD("releaseHash 257 bytes: 128 x U+00E9 + \"m\"",
	    "{\"name\":\"svc\",\"version\":1,\"environment\":\"validation\","
	    "\"releaseHash\":\"" X128("\xc3\xa9") "m\"}", "releaseHash"),
	BAD_FIELD("releaseHash is a number", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":\"validation\",\"releaseHash\":1}", "releaseHash"),
	BAD_FIELD("releaseHash is an array", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":\"validation\",\"releaseHash\":[\"x\"]}",
	    "releaseHash"),
	BAD_FIELD("name and serviceName (different values)",
	    "{\"name\":\"svc\",\"version\":1,\"environment\":\"validation\","
	    "\"serviceName\":\"other\"}", "serviceName"),
	BAD_FIELD("serviceName before name", "{\"serviceName\":\"svc\","
	    "\"name\":\"svc\",\"version\":1,\"environment\":\"validation\"}",
	    "serviceName"),
	BAD_FIELD("serviceVersionNumber before version", "{\"name\":\"svc\","
	    "\"serviceVersionNumber\":2,\"version\":1,"
	    "\"environment\":\"validation\"}", "serviceVersionNumber"),
	BAD_FIELD("serviceName is a number", "{\"version\":1,"
	    "\"environment\":\"validation\",\"serviceName\":5}", "serviceName"),
	BAD_FIELD("serviceName 257 bytes", "{\"version\":1,"
	    "\"environment\":\"validation\",\"serviceName\":\"" X256("s") "s"
	    "\"}", "serviceName"),
	BAD_FIELD("serviceVersionNumber \"1\"", "{\"name\":\"svc\","
	    "\"environment\":\"validation\",\"serviceVersionNumber\":\"1\"}",
	    "serviceVersionNumber"),
	BAD_FIELD("serviceVersionNumber -1", "{\"name\":\"svc\","
	    "\"environment\":\"validation\",\"serviceVersionNumber\":-1}",
	    "serviceVersionNumber"),

	/* the body is not one JSON object */
	BAD_JSON("empty body", ""),
	BAD_JSON("whitespace only", " \r\n\t"),
	BAD_JSON("array", "[]"),
	BAD_JSON("array of the object", "[{\"name\":\"a\",\"version\":1}]"),
	BAD_JSON("number", "1"),
	BAD_JSON("string", "\"name\""),
	BAD_JSON("true", "true"),
	BAD_JSON("null", "null"),
	BAD_JSON("trailing data", "{\"name\":\"a\",\"version\":1} x"),
	BAD_JSON("two objects", "{}{}"),
	BAD_JSON("object then object",
	    "{\"name\":\"a\",\"version\":1}\n{\"name\":\"b\",\"version\":2}"),
	BAD_JSON("trailing comma after the object",
	    "{\"name\":\"a\",\"version\":1},"),
	BAD_JSON("trailing NUL", "{\"name\":\"a\",\"version\":1}\0"),
	BAD_JSON("leading garbage", "x{\"name\":\"a\",\"version\":1}"),
	BAD_JSON("form feed is not whitespace",
	    "{\f\"name\":\"a\",\"version\":1}"),
	BAD_JSON("no-break space is not whitespace",
	    "{\xc2\xa0\"name\":\"a\",\"version\":1}"),
	BAD_JSON("single quotes", "{'name':'a','version':1}"),
	BAD_JSON("unquoted member names", "{name:\"a\",version:1}"),
	BAD_JSON("NaN", "{\"name\":\"a\",\"version\":NaN}"),
	BAD_JSON("nan in an unknown member", "{\"name\":\"a\",\"version\":1,\"x\":nan}"),
	BAD_JSON("Infinity", "{\"name\":\"a\",\"version\":Infinity}"),
	BAD_JSON("-Infinity", "{\"name\":\"a\",\"version\":1,\"x\":-Infinity}"),
	BAD_JSON("trailing comma in the object", "{\"name\":\"a\",\"version\":1,}"),
	BAD_JSON("trailing comma in an array",
	    "{\"name\":\"a\",\"version\":1,\"x\":[1,]}"),
	BAD_JSON("leading comma", "{,\"name\":\"a\",\"version\":1}"),
	BAD_JSON("double comma", "{\"name\":\"a\",,\"version\":1}"),
	BAD_JSON("missing colon", "{\"name\" \"a\",\"version\":1}"),
	BAD_JSON("missing comma", "{\"name\":\"a\" \"version\":1}"),
	BAD_JSON("missing value", "{\"name\":,\"version\":1}"),
	BAD_JSON("member name not a string", "{1:\"a\",\"version\":1}"),
	BAD_JSON("unterminated object", "{\"name\":\"a\",\"version\":1"),
	BAD_JSON("unterminated string", "{\"name\":\"a"),
	BAD_JSON("wrong closing bracket", "{\"name\":\"a\",\"version\":1]"),
	BAD_JSON("unterminated array", "{\"name\":\"a\",\"version\":1,\"x\":[1,2}"),
	BAD_JSON("raw tab in a string", "{\"name\":\"a\tb\",\"version\":1}"),
	BAD_JSON("raw newline in a string", "{\"name\":\"a\nb\",\"version\":1}"),
	BAD_JSON("raw 0x01 in a string", "{\"name\":\"a\x01\",\"version\":1}"),
	BAD_JSON("raw 0x1f in a member name", "{\"na\x1fme\":\"a\",\"version\":1}"),
	BAD_JSON("raw NUL in a string", "{\"name\":\"a\0b\",\"version\":1}"),
	BAD_JSON("bad escape \\x", "{\"name\":\"\\x41\",\"version\":1}"),
	BAD_JSON("bad escape \\'", "{\"name\":\"\\'\",\"version\":1}"),
	BAD_JSON("bad escape \\U", "{\"name\":\"\\U0041\",\"version\":1}"),
	BAD_JSON("bad escape \\0", "{\"name\":\"\\0\",\"version\":1}"),
	BAD_JSON("bad escape \\a", "{\"name\":\"\\a\",\"version\":1}"),
	BAD_JSON("short \\u escape", "{\"name\":\"\\u12\",\"version\":1}"),
	BAD_JSON("non-hex \\u escape", "{\"name\":\"\\u12G4\",\"version\":1}"),
	BAD_JSON("bad low surrogate escape",
	    "{\"name\":\"\\ud800\\uZZZZ\",\"version\":1}"),
	BAD_JSON("backslash at the end", "{\"name\":\"a\\"),
	BAD_JSON("leading zero", "{\"name\":\"a\",\"version\":01}"),
	BAD_JSON("negative leading zero", "{\"name\":\"a\",\"version\":-01}"),
	BAD_JSON("minus alone", "{\"name\":\"a\",\"version\":-}"),
	BAD_JSON("plus sign", "{\"name\":\"a\",\"version\":+1}"),
	BAD_JSON("point without digits", "{\"name\":\"a\",\"version\":1.}"),
	BAD_JSON("point first", "{\"name\":\"a\",\"version\":.5}"),
	BAD_JSON("exponent without digits", "{\"name\":\"a\",\"version\":1e}"),
	BAD_JSON("exponent sign without digits", "{\"name\":\"a\",\"version\":1e+}"),
	BAD_JSON("hexadecimal", "{\"name\":\"a\",\"version\":0x1}"),
	BAD_JSON("double minus", "{\"name\":\"a\",\"version\":--1}"),
	BAD_JSON("tru", "{\"name\":\"a\",\"version\":1,\"x\":tru}"),
	BAD_JSON("True", "{\"name\":\"a\",\"version\":1,\"x\":True}"),
	BAD_JSON("nul", "{\"name\":\"a\",\"version\":1,\"x\":nul}"),
	BAD_JSON("falsey", "{\"name\":\"a\",\"version\":1,\"x\":falsey}"),
	BAD_JSON("block comment", "{\"name\":\"a\",/* c */\"version\":1}"),
	BAD_JSON("line comment", "{\"name\":\"a\", // c\n\"version\":1}"),
	BAD_JSON("invalid UTF-8 in an unknown member",
	    "{\"name\":\"a\",\"version\":1,\"x\":\"\xff\"}"),
	BAD_JSON("overlong UTF-8 in an unknown member",
	    "{\"name\":\"a\",\"version\":1,\"x\":\"\xc0\x80\"}"),
	BAD_JSON("invalid UTF-8 in a nested name",
	    "{\"name\":\"a\",\"version\":1,\"x\":{\"name\":\"\xed\xa0\x80\"}}"),
	BAD_JSON("invalid UTF-8 in an array under name",
	    "{\"name\":[\"\xff\"],\"version\":1}"),
	BAD_JSON("lone surrogate in createdAt, unknown to a body",
	    "{\"name\":\"a\",\"version\":1,\"createdAt\":\"\\ud800\"}"),
	BAD_JSON("lone surrogate in an unknown member",
	    "{\"name\":\"a\",\"version\":1,\"x\":\"\\ud800\"}"),
	BAD_JSON("invalid UTF-8 in the first member name",
	    "{\"\xff\":1,\"name\":\"a\",\"version\":1}"),
	/*
	 * A member name is not the value of the member before it: its bad
	 * text makes the body invalid JSON, whatever came before.
	 */
	BAD_JSON("invalid UTF-8 in a member name after name",
	    "{\"name\":\"a\",\"\xff\":1,\"version\":1}"),
	BAD_JSON("lone surrogate in a member name after version",
	    "{\"version\":1,\"\\ud800\":1,\"name\":\"a\"}"),

	/*
	 * Bodies that are not JSON, once in tests/e2e/test_validation.py:
	 * its labels and bodies, in the environment "validation".
	 */
	BAD_JSON("lone brace", "{"),
	BAD_JSON("trailing number", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":\"validation\"} 1"),
	BAD_JSON("trailing comment", "{\"name\":\"svc\",\"version\":1,"
	    "\"environment\":\"validation\"} // comment"),
};

/* The type URI of a problem kind, to name it in a failure. */
static const char *
kind_name(enum problem_kind kind)
{
	return problem_of(kind)->type;
}

/* Checks a parse that must fail with kind and field; label names the case. */
static void
expect_invalid(const char *label, bool ok, const struct invalid *invalid,
    enum problem_kind kind, const char *field)
{
	if (!CHECK(!ok, "body '%s': accepted", label))
		return;
	CHECK(invalid->kind == kind, "body '%s': got %s (%s), expected %s",
	    label, kind_name(invalid->kind), invalid->detail, kind_name(kind));
	if (field == NULL)
		CHECK(invalid->name == NULL, "body '%s': names member %s, "
		    "expected none", label, invalid->name);
	else if (CHECK(invalid->name != NULL && strcmp(invalid->name, field) == 0,
	    "body '%s': names member %s (%s), expected %s", label,
	    invalid->name != NULL ? invalid->name : "NULL", invalid->detail,
	    field))
		CHECK(strstr(invalid->detail, field) != NULL,
		    "body '%s': detail '%s' does not name %s", label,
		    invalid->detail, field);
	CHECK(invalid->detail[0] != '\0', "body '%s': empty detail", label);
}

/* Parses len bytes of body from a buffer of exactly that size. */
static bool
parse_exact(const char *body, size_t len, struct deploy *out,
    struct invalid *invalid)
{
	char *copy = copy_exact(body, len);
	bool ok;

	if (!CHECK(copy != NULL, "out of memory"))
		return false;
	ok = json_parse_deploy(copy, len, out, invalid);
	free(copy);
	return ok;
}

static void
test_deploy_table(void)
{
	char shown[256];

	for (size_t i = 0; i < sizeof(deploy_cases) / sizeof(deploy_cases[0]); i++) {
		const struct deploy_case *c = &deploy_cases[i];
		struct deploy d;
		struct invalid invalid;
		bool ok;
		unsigned md;

		invalid_reset(&invalid);
		memset(&d, 0xA5, sizeof(d));
		ok = parse_exact(c->body, c->len, &d, &invalid);
		if (!c->ok) {
			expect_invalid(c->label, ok, &invalid, c->kind, c->field);
			continue;
		}
		if (!CHECK(ok, "body '%s': refused: %s %s: %s", c->label,
		    kind_name(invalid.kind), invalid.name != NULL ? invalid.name :
		    "", invalid.detail))
			continue;
		CHECK(d.name_len == c->name_len &&
		    memcmp(d.name, c->name, c->name_len) == 0 &&
		    d.name[d.name_len] == '\0', "body '%s': name [%s] (%zu bytes)",
		    c->label, printable(d.name, d.name_len < sizeof(d.name) ?
		    d.name_len : 0, shown, sizeof(shown)), d.name_len);
		CHECK(d.version == c->version, "body '%s': version %llu, expected "
		    "%llu", c->label, (unsigned long long)d.version,
		    (unsigned long long)c->version);
		CHECK(memchr(d.environment, '\0', sizeof(d.environment)) != NULL &&
		    strcmp(d.environment, c->environment) == 0,
		    "body '%s': environment '%.64s', expected '%s'", c->label,
		    d.environment, c->environment);
		md = (d.deployed_by.present ? MD_DEPLOYED_BY : 0) |
		    (d.reason.present ? MD_REASON : 0) |
		    (d.release_hash.present ? MD_RELEASE_HASH : 0);
		CHECK(md == c->metadata, "body '%s': metadata present 0x%x, "
		    "expected 0x%x", c->label, md, c->metadata);
	}
}

/* The decoded metadata texts and lengths. */
static void
test_deploy_metadata_values(void)
{
	static const char body[] = "{\"name\":\"a\",\"version\":1,"
	    "\"deployedBy\":\"ci \\u00e9\",\"reason\":\"\","
	    "\"releaseHash\":\"0123abcd\"}";
	struct deploy d;
	struct invalid invalid;

	invalid_reset(&invalid);
	if (!CHECK(parse_exact(LIT(body), &d, &invalid), "refused: %s",
	    invalid.detail))
		return;
	CHECK(d.deployed_by.present && d.deployed_by.len == 5 &&
	    memcmp(d.deployed_by.text, "ci \xc3\xa9", 6) == 0,
	    "deployedBy: %zu bytes", d.deployed_by.len);
	CHECK(d.reason.present && d.reason.len == 0 && d.reason.text[0] == '\0',
	    "reason: the empty string is present, %zu bytes", d.reason.len);
	CHECK(d.release_hash.present && d.release_hash.len == 8 &&
	    strcmp(d.release_hash.text, "0123abcd") == 0,
	    "releaseHash: %zu bytes", d.release_hash.len);

	invalid_reset(&invalid);
	if (!CHECK(parse_exact(LIT("{\"name\":\"a\",\"version\":1}"), &d,
	    &invalid), "refused: %s", invalid.detail))
		return;
	CHECK(!d.deployed_by.present && !d.reason.present &&
	    !d.release_hash.present, "absent metadata is not present");
}

/*
 * A report's key: what each accepted eventId, sequence and deployedAt
 * decodes to, and that a member left out is not present.
 */
static void
test_deploy_report_keys(void)
{
	static const struct {
		const char	*label;
		const char	*body;
		const char	*event_id;	/* NULL: absent */
		size_t		 event_id_len;
		bool		 has_sequence;
		uint64_t	 sequence;
		bool		 has_deployed_at;
		uint64_t	 deployed_at_ms;
	} cases[] = {
		{ "no key", "{\"name\":\"a\",\"version\":1}", NULL, 0, false, 0,
		    false, 0 },
		{ "every member", "{\"name\":\"a\",\"version\":1,\"eventId\":"
		    "\"evt-1\",\"sequence\":17,\"deployedAt\":"
		    "\"2026-12-06T10:15:03.042Z\"}", LIT("evt-1"), true, 17,
		    true, UINT64_C(1796552103042) },
		{ "eventId of one byte", "{\"eventId\":\"x\",\"name\":\"a\","
		    "\"version\":1}", LIT("x"), false, 0, false, 0 },
		{ "eventId of 128 bytes", "{\"name\":\"a\",\"version\":1,"
		    "\"eventId\":\"" X128("e") "\"}", LIT(X128("e")), false, 0,
		    false, 0 },
		{ "eventId of 64 x U+00E9 = 128 bytes", "{\"name\":\"a\","
		    "\"version\":1,\"eventId\":\"" X64("\\u00e9") "\"}",
		    LIT(X64("\xc3\xa9")), false, 0, false, 0 },
		{ "eventId with / % ? # and a space", "{\"name\":\"a\","
		    "\"version\":1,\"eventId\":\"a/b%2F?c#d e\"}",
		    LIT("a/b%2F?c#d e"), false, 0, false, 0 },
		{ "sequence 0", "{\"name\":\"a\",\"version\":1,\"sequence\":0}",
		    NULL, 0, true, 0, false, 0 },
		{ "sequence -0", "{\"name\":\"a\",\"version\":1,\"sequence\":-0}",
		    NULL, 0, true, 0, false, 0 },
		{ "sequence 2^53 - 1", "{\"name\":\"a\",\"version\":1,"
		    "\"sequence\":9007199254740991}", NULL, 0, true,
		    UINT64_C(9007199254740991), false, 0 },
		{ "deployedAt at the epoch", "{\"name\":\"a\",\"version\":1,"
		    "\"deployedAt\":\"1970-01-01T00:00:00Z\"}", NULL, 0, false, 0,
		    true, 0 },
		{ "deployedAt with an offset", "{\"name\":\"a\",\"version\":1,"
		    "\"deployedAt\":\"2026-12-06T11:15:03+01:00\"}", NULL, 0,
		    false, 0, true, UINT64_C(1796552103000) },
		{ "deployedAt in 9999", "{\"name\":\"a\",\"version\":1,"
		    "\"deployedAt\":\"9999-12-31T23:59:59.999Z\"}", NULL, 0,
		    false, 0, true, UINT64_C(253402300799999) },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct report_key *k;
		struct deploy d;
		struct invalid invalid;
		bool has_event_id = cases[i].event_id != NULL;

		invalid_reset(&invalid);
		memset(&d, 0xA5, sizeof(d));
		if (!CHECK(parse_exact(cases[i].body, strlen(cases[i].body), &d,
		    &invalid), "body '%s': refused: %s", cases[i].label,
		    invalid.detail))
			continue;
		k = &d.key;
		CHECK(!d.removal, "body '%s': a removal", cases[i].label);
		CHECK(k->has_event_id == has_event_id && (!has_event_id ||
		    (k->event_id_len == cases[i].event_id_len &&
		    memcmp(k->event_id, cases[i].event_id,
		    k->event_id_len) == 0 && k->event_id[k->event_id_len] ==
		    '\0')), "body '%s': eventId (%zu bytes)", cases[i].label,
		    k->event_id_len);
		CHECK(k->has_sequence == cases[i].has_sequence &&
		    (!k->has_sequence || k->sequence == cases[i].sequence),
		    "body '%s': sequence %llu", cases[i].label,
		    (unsigned long long)k->sequence);
		CHECK(k->has_deployed_at == cases[i].has_deployed_at &&
		    (!k->has_deployed_at ||
		    k->deployed_at_ms == cases[i].deployed_at_ms),
		    "body '%s': deployedAt %llu", cases[i].label,
		    (unsigned long long)k->deployed_at_ms);
	}
}

/*
 * Builds a deploy body whose member holds count copies of unit (JSON text)
 * in buf; returns its length.
 */
static size_t
body_with_member(char *buf, size_t cap, const char *member, const char *unit,
    size_t count)
{
	size_t n, unit_len = strlen(unit);

	if (strcmp(member, "name") == 0)
		n = (size_t)snprintf(buf, cap, "{\"version\":1,\"name\":\"");
	else
		n = (size_t)snprintf(buf, cap,
		    "{\"version\":1,\"name\":\"a\",\"%s\":\"", member);
	for (size_t i = 0; i < count && n + unit_len + 3 < cap; i++) {
		memcpy(buf + n, unit, unit_len);
		n += unit_len;
	}
	n += (size_t)snprintf(buf + n, cap - n, "\"}");
	return n;
}

/* Member lengths: names and metadata hold at most 256 bytes of UTF-8. */
static void
test_deploy_lengths(void)
{
	static const struct {
		const char	*label;
		const char	*member;
		const char	*unit;		/* JSON text of one character */
		size_t		 unit_bytes;	/* its UTF-8 length */
		size_t		 count;
		bool		 ok;
	} cases[] = {
		{ "name of 256 bytes", "name", "n", 1, 256, true },
		{ "name of 257 bytes", "name", "n", 1, 257, false },
		{ "name of 128 x U+00E9", "name", "\xc3\xa9", 2, 128, true },
		{ "name of 129 x U+00E9", "name", "\xc3\xa9", 2, 129, false },
		{ "name of 128 x \\u00e9", "name", "\\u00e9", 2, 128, true },
		{ "name of 64 x U+1F600 escaped", "name", "\\ud83d\\ude00", 4,
		    64, true },
		{ "name of 65 x U+1F600 escaped", "name", "\\ud83d\\ude00", 4,
		    65, false },
		{ "deployedBy of 256 bytes", "deployedBy", "d", 1, 256, true },
		{ "deployedBy of 257 bytes", "deployedBy", "d", 1, 257, false },
		{ "reason of 257 bytes", "reason", "r", 1, 257, false },
		{ "releaseHash of 256 bytes", "releaseHash", "h", 1, 256, true },
		{ "releaseHash of 257 bytes", "releaseHash", "h", 1, 257, false },
		{ "environment of 64 characters", "environment", "e", 1, 64, true },
		{ "environment of 65 characters", "environment", "e", 1, 65, false },
		/* past what the scanner keeps of a string (TEXT_MAX) */
		{ "name of 600 bytes", "name", "n", 1, 600, false },
		{ "reason of 600 x \\u00e9", "reason", "\\u00e9", 2, 600, false },
		{ "environment of 600 characters", "environment", "e", 1, 600,
		    false },
	};
	char body[4096];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = body_with_member(body, sizeof(body),
		    cases[i].member, cases[i].unit, cases[i].count);
		size_t bytes = cases[i].unit_bytes * cases[i].count;
		struct deploy d;
		struct invalid invalid;
		bool ok;

		invalid_reset(&invalid);
		ok = parse_exact(body, len, &d, &invalid);
		if (!cases[i].ok) {
			expect_invalid(cases[i].label, ok, &invalid,
			    PROBLEM_INVALID_FIELD, cases[i].member);
			continue;
		}
		if (!CHECK(ok, "body '%s': refused: %s", cases[i].label,
		    invalid.detail))
			continue;
		if (strcmp(cases[i].member, "name") == 0)
			CHECK(d.name_len == bytes && d.name[bytes] == '\0',
			    "body '%s': name of %zu bytes", cases[i].label,
			    d.name_len);
		else if (strcmp(cases[i].member, "deployedBy") == 0)
			CHECK(d.deployed_by.present && d.deployed_by.len == bytes &&
			    d.deployed_by.text[bytes] == '\0',
			    "body '%s': %zu bytes", cases[i].label,
			    d.deployed_by.len);
		else if (strcmp(cases[i].member, "releaseHash") == 0)
			CHECK(d.release_hash.present &&
			    d.release_hash.len == bytes &&
			    d.release_hash.text[bytes] == '\0',
			    "body '%s': %zu bytes", cases[i].label,
			    d.release_hash.len);
		else
			CHECK(strlen(d.environment) == bytes,
			    "body '%s': environment of %zu bytes", cases[i].label,
			    strlen(d.environment));
	}
}

/* the body before the nested value: under x, name or version */
#define UNDER_X		"{\"name\":\"a\",\"version\":1,\"x\":"
#define UNDER_NAME	"{\"version\":1,\"name\":"
#define UNDER_VERSION	"{\"name\":\"a\",\"version\":"

/*
 * Nesting: the body may nest JSON_DEPTH_MAX (32) levels, the object itself
 * being the first; one more is invalid JSON, whatever member holds it, and
 * so is a body nested 30,000 deep, or 20,000 deep and never closed (the
 * scanner stops at the limit rather than recurse).
 */
static void
test_deploy_nesting(void)
{
	static const struct {
		const char	*label;
		const char	*before;	/* the body up to the nesting */
		const char	*kinds;		/* '[' or '{' per level, cycled */
		int		 depth;		/* levels of the whole body */
		bool		 closed;	/* else the body ends unclosed */
		bool		 ok;
	} cases[] = {
		{ "arrays, 2 levels", UNDER_X, "[", 2, true, true },
		{ "arrays, 32 levels", UNDER_X, "[", 32, true, true },
		{ "arrays, 33 levels", UNDER_X, "[", 33, true, false },
		{ "arrays, 34 levels", UNDER_X, "[", 34, true, false },
		{ "objects, 32 levels", UNDER_X, "{", 32, true, true },
		{ "objects, 33 levels", UNDER_X, "{", 33, true, false },
		{ "mixed, 32 levels", UNDER_X, "[{", 32, true, true },
		{ "mixed, 33 levels", UNDER_X, "{[", 33, true, false },
		{ "arrays, 1000 levels", UNDER_X, "[", 1000, true, false },
		{ "arrays, 30000 levels", UNDER_X, "[", 30000, true, false },
		{ "arrays under name, 30000 levels", UNDER_NAME, "[", 30000,
		    true, false },
		{ "arrays under name, 33 levels", UNDER_NAME, "[", 33, true,
		    false },
		{ "arrays under version, 33 levels", UNDER_VERSION, "[", 33,
		    true, false },
		/* once in tests/e2e/test_validation.py */
		{ "deep unterminated nesting", "{\"x\":", "[", 20001, false,
		    false },
	};
	size_t cap = 64 * 1024;
	char *body, *closers;

	body = malloc(cap);
	closers = malloc(cap);
	if (!CHECK(body != NULL && closers != NULL, "out of memory")) {
		free(body);
		free(closers);
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n, kinds = strlen(cases[i].kinds), closed = 0;
		struct deploy d;
		struct invalid invalid;
		bool ok;

		n = (size_t)snprintf(body, cap, "%s", cases[i].before);
		/* levels 2 .. depth; the innermost one is empty */
		for (int level = 2; level <= cases[i].depth; level++) {
			char kind = cases[i].kinds[(size_t)(level - 2) % kinds];
			bool inner = level == cases[i].depth;

			if (kind == '[')
				n += (size_t)snprintf(body + n, cap - n, "[");
			else
				n += (size_t)snprintf(body + n, cap - n, "%s",
				    inner ? "{" : "{\"k\":");
			closers[closed++] = kind == '[' ? ']' : '}';
		}
		while (cases[i].closed && closed > 0)
			body[n++] = closers[--closed];
		if (cases[i].closed)
			body[n++] = '}';
		invalid_reset(&invalid);
		ok = parse_exact(body, n, &d, &invalid);
		if (cases[i].ok)
			CHECK(ok && d.version == 1 && d.name_len == 1,
			    "body '%s': refused: %s", cases[i].label,
			    invalid.detail);
		else
			expect_invalid(cases[i].label, ok, &invalid,
			    PROBLEM_INVALID_JSON, NULL);
	}
	free(closers);
	free(body);
}

/* Nothing past len is read: the parser sees exactly the bytes it is given. */
static void
test_deploy_respects_len(void)
{
	static const char text[] = "{\"name\":\"a\",\"version\":12}garbage";
	size_t object_len = strlen("{\"name\":\"a\",\"version\":12}");
	struct deploy d;
	struct invalid invalid;

	invalid_reset(&invalid);
	CHECK(json_parse_deploy(text, object_len, &d, &invalid) &&
	    d.version == 12, "the object without what follows it: %s",
	    invalid.detail);
	invalid_reset(&invalid);
	CHECK(!json_parse_deploy(text, object_len - 1, &d, &invalid) &&
	    invalid.kind == PROBLEM_INVALID_JSON,
	    "the object without its closing brace");
	invalid_reset(&invalid);
	CHECK(!json_parse_deploy(text, 0, &d, &invalid) &&
	    invalid.kind == PROBLEM_INVALID_JSON, "no bytes at all");
}

/* A failed parse leaves no stale value from an earlier one. */
static void
test_deploy_clears_output(void)
{
	struct deploy d;
	struct invalid invalid;

	memset(&d, 0x41, sizeof(d));
	invalid_reset(&invalid);
	CHECK(!json_parse_deploy(LIT("{\"version\":1}"), &d, &invalid),
	    "missing name accepted");
	CHECK(d.name_len == 0 && d.name[0] == '\0' && !d.deployed_by.present,
	    "the output is cleared: name_len %zu", d.name_len);
}

/* Renders a list of (name, len, version) and compares with expected. */
static void
expect_services(const char *label, const struct service_list *list,
    const char *expected, size_t expected_len)
{
	char shown[512];
	size_t len = 0;
	char *out = json_render_services(list, &len);

	if (!CHECK(out != NULL, "render '%s': NULL", label))
		return;
	CHECK(len == expected_len && memcmp(out, expected, len) == 0 &&
	    out[len] == '\0', "render '%s': got [%s]", label,
	    printable(out, len, shown, sizeof(shown)));
	free(out);
}

static void
test_render_services(void)
{
	struct service_list list;
	struct json_object *root;
	size_t len = 0;
	char *out;
	static const char *const names[] = {
		"a\"b", "back\\slash", "ctl\x01\x1f", "nl\n\t\r",
		"caf\xc3\xa9 \xf0\x9f\x98\x80", "x/y", "", "z\0y",
	};
	static const size_t name_lens[] = { 3, 10, 5, 5, 10, 3, 0, 3 };
	size_t count = sizeof(names) / sizeof(names[0]);

	service_list_init(&list);
	expect_services("empty list", &list, LIT("[]"));

	CHECK(service_list_append(&list, "b", 1, 2) &&
	    service_list_append(&list, "a", 1, 1) &&
	    service_list_append(&list, "c", 1, UINT64_C(9007199254740991)),
	    "append");
	expect_services("order preserved", &list,
	    LIT("[{\"name\":\"b\",\"version\":2},{\"name\":\"a\",\"version\":1},"
	    "{\"name\":\"c\",\"version\":9007199254740991}]"));

	service_list_clear(&list);
	CHECK(service_list_append(&list, "d", 1, 10) &&
	    service_list_append(&list, "e", 1, UINT64_MAX) &&
	    service_list_append(&list, "f", 1, 0), "append");
	expect_services("number edges", &list,
	    LIT("[{\"name\":\"d\",\"version\":10},"
	    "{\"name\":\"e\",\"version\":18446744073709551615},"
	    "{\"name\":\"f\",\"version\":0}]"));

	service_list_clear(&list);
	/* the empty name comes after others: the arena already exists */
	for (size_t i = 0; i < count; i++)
		CHECK(service_list_append(&list, names[i], name_lens[i], i),
		    "append %zu", i);
	expect_services("escapes", &list, LIT(
	    "[{\"name\":\"a\\\"b\",\"version\":0},"
	    "{\"name\":\"back\\\\slash\",\"version\":1},"
	    "{\"name\":\"ctl\\u0001\\u001f\",\"version\":2},"
	    "{\"name\":\"nl\\n\\t\\r\",\"version\":3},"
	    "{\"name\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\",\"version\":4},"
	    "{\"name\":\"x/y\",\"version\":5},"
	    "{\"name\":\"\",\"version\":6},"
	    "{\"name\":\"z\\u0000y\",\"version\":7}]"));

	/* and json-c reads every name back, byte for byte */
	out = json_render_services(&list, &len);
	if (CHECK(out != NULL, "render")) {
		root = json_tokener_parse(out);
		if (CHECK(root != NULL && json_object_is_type(root,
		    json_type_array) && json_object_array_length(root) == count,
		    "parse back [%s]", out)) {
			for (size_t i = 0; i < count; i++) {
				struct json_object *item, *name, *version;

				item = json_object_array_get_idx(root, i);
				CHECK(json_object_object_length(item) == 2 &&
				    json_object_object_get_ex(item, "name", &name) &&
				    json_object_object_get_ex(item, "version",
				    &version) &&
				    (size_t)json_object_get_string_len(name) ==
				    name_lens[i] && memcmp(json_object_get_string(
				    name), names[i], name_lens[i]) == 0 &&
				    json_object_get_int64(version) == (int64_t)i,
				    "item %zu read back", i);
			}
		}
		json_object_put(root);
		free(out);
	}
	service_list_free(&list);
}

static void
test_render_uint(void)
{
	static const struct {
		uint64_t	 value;
		const char	*text;
	} cases[] = {
		{ 0, "0" },
		{ 1, "1" },
		{ 3, "3" },
		{ 1000, "1000" },
		{ UINT64_C(9007199254740991), "9007199254740991" },
		{ UINT64_C(9223372036854775808), "9223372036854775808" },
		{ UINT64_MAX, "18446744073709551615" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = 0;
		char *out = json_render_uint(cases[i].value, &len);

		if (!CHECK(out != NULL, "render %s: NULL", cases[i].text))
			continue;
		CHECK(len == strlen(cases[i].text) &&
		    strcmp(out, cases[i].text) == 0, "render %s: got '%s' "
		    "(%zu bytes)", cases[i].text, out, len);
		free(out);
	}
}

static void
test_render_problem(void)
{
	static const struct {
		const char	*label;
		int		 status;
		const char	*type, *title, *detail, *ext_key, *ext_value;
		int		 members;
	} cases[] = {
		{ "with a field", 400, "/problems/invalid-field",
		    "A field of the body is invalid",
		    "version must be an integer from 0 to 9007199254740991",
		    "field", "version", 5 },
		{ "without extension", 404, "/problems/not-found", "Not found",
		    "environment prod has no system version 9", NULL, NULL, 4 },
		{ "extension key without value", 503, "/problems/unavailable",
		    "Unavailable", "retry", "field", NULL, 4 },
		{ "quotes, backslashes and controls", 400, "/problems/x",
		    "T \"q\" \\ /", "line\nnext\ttab \x01 caf\xc3\xa9", "parameter",
		    "a\"b", 5 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = 0;
		char *out = json_render_problem(cases[i].status, cases[i].type,
		    cases[i].title, cases[i].detail, cases[i].ext_key,
		    cases[i].ext_value, &len);
		struct json_object *root, *status;
		struct json_tokener *tok;

		if (!CHECK(out != NULL, "problem '%s': NULL", cases[i].label))
			continue;
		CHECK(len == strlen(out), "problem '%s': len %zu for %zu bytes",
		    cases[i].label, len, strlen(out));
		/* strict: the whole output is one JSON object */
		tok = json_tokener_new();
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
		root = tok != NULL ? json_tokener_parse_ex(tok, out, (int)len) :
		    NULL;
		if (CHECK(root != NULL && json_object_is_type(root,
		    json_type_object) && json_tokener_get_parse_end(tok) == len,
		    "problem '%s': not one JSON object: %s", cases[i].label, out)) {
			CHECK(json_object_object_length(root) == cases[i].members,
			    "problem '%s': %d members, expected %d: %s",
			    cases[i].label, json_object_object_length(root),
			    cases[i].members, out);
			CHECK(json_has_string(root, "type", cases[i].type) &&
			    json_has_string(root, "title", cases[i].title) &&
			    json_has_string(root, "detail", cases[i].detail),
			    "problem '%s': type, title, detail: %s", cases[i].label,
			    out);
			CHECK(json_object_object_get_ex(root, "status", &status) &&
			    json_object_is_type(status, json_type_int) &&
			    json_object_get_int(status) == cases[i].status,
			    "problem '%s': status: %s", cases[i].label, out);
			if (cases[i].members == 5)
				CHECK(json_has_string(root, cases[i].ext_key,
				    cases[i].ext_value), "problem '%s': %s: %s",
				    cases[i].label, cases[i].ext_key, out);
			else
				CHECK(cases[i].ext_key == NULL ||
				    !json_object_object_get_ex(root,
				    cases[i].ext_key, NULL),
				    "problem '%s': no extension: %s",
				    cases[i].label, out);
		}
		json_object_put(root);
		if (tok != NULL)
			json_tokener_free(tok);
		free(out);
	}
}

#define EXPORT_HEADER(members) \
	"{\"format\":\"releasemgr-export\",\"formatVersion\":1" members "}"
#define EXPORT_LINE(members) "{\"environment\":\"e\",\"systemVersion\":3," \
	"\"createdAt\":\"2026-01-01T00:00:00.250Z\",\"name\":\"a\"," \
	"\"version\":2" members "}"

/*
 * The lines of an export: the header, and a version's line, whose
 * problems come in the order of a deploy's, then systemVersion,
 * createdAt and previousVersion, but for a missing environment, first.
 */
static void
test_export_lines(void)
{
	static const struct {
		const char	*label;
		const char	*line;
		bool		 header;	/* else a version's line */
		const char	*field;		/* NULL: accepted */
	} cases[] = {
		{ "header", EXPORT_HEADER(",\"environments\":2,"
		    "\"systemVersions\":31"), true, NULL },
		{ "header with a body's members twice", EXPORT_HEADER(
		    ",\"environments\":2,\"systemVersions\":31,\"name\":1,"
		    "\"name\":2"), true, NULL },
		{ "header without format", "{\"formatVersion\":1,"
		    "\"environments\":2,\"systemVersions\":31}", true, "format" },
		{ "header with format twice", EXPORT_HEADER(",\"environments\":2,"
		    "\"systemVersions\":31,\"format\":\"releasemgr-export\""),
		    true, "format" },
		{ "header with format cut at \\u0000",
		    "{\"format\":\"releasemgr-export\\u0000x\",\"formatVersion\":1,"
		    "\"environments\":2,\"systemVersions\":31}", true, "format" },
		{ "header with formatVersion 1.0", "{\"format\":"
		    "\"releasemgr-export\",\"formatVersion\":1.0,"
		    "\"environments\":2,\"systemVersions\":31}", true,
		    "formatVersion" },
		{ "header with environments -1", EXPORT_HEADER(
		    ",\"environments\":-1,\"systemVersions\":31"), true,
		    "systemVersions" },
		{ "header with systemVersions null", EXPORT_HEADER(
		    ",\"environments\":2,\"systemVersions\":null"), true,
		    "systemVersions" },
		{ "line", EXPORT_LINE(",\"previousVersion\":1"), false, NULL },
		{ "line of a new service", EXPORT_LINE(",\"previousVersion\":null"),
		    false, NULL },
		{ "line without previousVersion", EXPORT_LINE(""), false,
		    "previousVersion" },
		{ "line with previousVersion \"1\"",
		    EXPORT_LINE(",\"previousVersion\":\"1\""), false,
		    "previousVersion" },
		{ "line with systemVersion 0, then a bad previousVersion",
		    "{\"environment\":\"e\",\"systemVersion\":0,\"createdAt\":"
		    "\"2026-01-01T00:00:00Z\",\"name\":\"a\",\"version\":2,"
		    "\"previousVersion\":true}", false, "systemVersion" },
		{ "line with createdAt null", "{\"environment\":\"e\","
		    "\"systemVersion\":1,\"createdAt\":null,\"name\":\"a\","
		    "\"version\":2,\"previousVersion\":null}", false, "createdAt" },
		{ "line without createdAt", "{\"environment\":\"e\","
		    "\"systemVersion\":1,\"name\":\"a\",\"version\":2,"
		    "\"previousVersion\":null}", false, "createdAt" },
		{ "line without environment nor name", "{\"systemVersion\":1,"
		    "\"version\":2,\"previousVersion\":null}", false,
		    "environment" },
		{ "line with environment null, without name",
		    "{\"environment\":null,\"systemVersion\":1,\"version\":2,"
		    "\"previousVersion\":null}", false, "name" },
		{ "line with environment null", "{\"environment\":null,"
		    "\"systemVersion\":1,\"createdAt\":\"2026-01-01T00:00:00Z\","
		    "\"name\":\"a\",\"version\":2,\"previousVersion\":null}",
		    false, "environment" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].line);
		char *line = copy_exact(cases[i].line, len);
		struct export_header header;
		struct deploy d;
		struct change_position position;
		struct invalid invalid;
		bool ok;

		if (!CHECK(line != NULL, "out of memory"))
			return;
		invalid_reset(&invalid);
		ok = cases[i].header ?
		    json_parse_export_header(line, len, &header, &invalid) :
		    json_parse_export_change(line, len, &d, &position, &invalid);
		free(line);
		/* the header's refusals say what is wrong, not always where */
		if (cases[i].field != NULL) {
			CHECK(!ok && invalid.kind == PROBLEM_INVALID_FIELD &&
			    invalid.name != NULL &&
			    strcmp(invalid.name, cases[i].field) == 0,
			    "line '%s': %s (%s), expected %s", cases[i].label,
			    ok ? "accepted" : invalid.name != NULL ?
			    invalid.name : "no member", invalid.detail,
			    cases[i].field);
			continue;
		}
		if (!CHECK(ok, "line '%s': refused: %s", cases[i].label,
		    invalid.detail))
			continue;
		if (cases[i].header)
			CHECK(header.environments == 2 &&
			    header.system_versions == 31, "line '%s': counts",
			    cases[i].label);
		else
			CHECK(strcmp(d.environment, "e") == 0 &&
			    strcmp(d.name, "a") == 0 && d.version == 2 &&
			    position.system_version == 3 &&
			    position.created_ms == UINT64_C(1767225600250) &&
			    position.has_previous == (position.previous == 1),
			    "line '%s': values", cases[i].label);
	}
}

/*
 * A removal's line: its version is null. A key is no member of a line:
 * an eventId or sequence there is ignored, whatever it holds.
 */
static void
test_export_removal_lines(void)
{
	static const struct {
		const char	*label;
		const char	*line;
		bool		 removal;
	} cases[] = {
		{ "a removal", "{\"environment\":\"e\",\"systemVersion\":3,"
		    "\"createdAt\":\"2026-01-01T00:00:00Z\",\"name\":\"a\","
		    "\"version\":null,\"previousVersion\":2}", true },
		{ "a removal, aliases", "{\"environment\":\"e\","
		    "\"systemVersion\":3,\"createdAt\":\"2026-01-01T00:00:00Z\","
		    "\"serviceName\":\"a\",\"serviceVersionNumber\":null,"
		    "\"previousVersion\":2}", true },
		{ "a change", EXPORT_LINE(",\"previousVersion\":2"), false },
		{ "a change with a key's members", EXPORT_LINE(
		    ",\"previousVersion\":2,\"eventId\":\"\",\"sequence\":-1,"
		    "\"deployedAt\":1"), false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].line);
		char *line = copy_exact(cases[i].line, len);
		struct deploy d;
		struct change_position position;
		struct invalid invalid;
		bool ok;

		if (!CHECK(line != NULL, "out of memory"))
			return;
		invalid_reset(&invalid);
		memset(&d, 0xA5, sizeof(d));
		ok = json_parse_export_change(line, len, &d, &position, &invalid);
		free(line);
		if (!CHECK(ok, "line '%s': refused: %s", cases[i].label,
		    invalid.detail))
			continue;
		CHECK(d.removal == cases[i].removal && strcmp(d.name, "a") == 0 &&
		    d.version == (cases[i].removal ? 0 : 2) &&
		    position.has_previous && position.previous == 2,
		    "line '%s': removal %d, version %llu", cases[i].label,
		    d.removal, (unsigned long long)d.version);
		CHECK(!d.key.has_event_id && !d.key.has_sequence &&
		    !d.key.has_deployed_at, "line '%s': a key", cases[i].label);
	}
}

/*
 * An instant's fraction may have any number of digits, but the scanner
 * keeps 512 bytes of a string: a createdAt of 512 bytes or more is none.
 */
static void
test_export_long_instant(void)
{
	static const struct {
		size_t	digits;
		bool	ok;
	} cases[] = { { 3, true }, { 400, true }, { 490, true }, { 491, false },
	    { 600, false } };
	char line[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct deploy d;
		struct change_position position;
		struct invalid invalid;
		int n;
		bool ok;

		n = snprintf(line, sizeof(line), "{\"environment\":\"e\","
		    "\"systemVersion\":1,\"name\":\"a\",\"version\":1,"
		    "\"previousVersion\":null,\"createdAt\":"
		    "\"2026-01-01T00:00:00.%0*dZ\"}", (int)cases[i].digits, 0);
		invalid_reset(&invalid);
		ok = json_parse_export_change(line, (size_t)n, &d, &position,
		    &invalid);
		CHECK(ok == cases[i].ok && (ok || strcmp(invalid.name,
		    "createdAt") == 0), "createdAt with %zu digits: %s",
		    cases[i].digits, ok ? "accepted" : invalid.detail);
	}
}

/*
 * True when the out_len bytes of out, quoted, are one JSON string of valid
 * UTF-8 to a strict parser.
 */
static bool
is_json_string(const char *out, size_t out_len)
{
	char quoted[512];
	struct json_object *root;
	bool ok;

	if (out_len + 2 > sizeof(quoted))
		return false;
	quoted[0] = '"';
	memcpy(quoted + 1, out, out_len);
	quoted[out_len + 1] = '"';
	root = json_parse_exact(quoted, out_len + 2);
	ok = root != NULL && json_object_is_type(root, json_type_string) &&
	    utf8_valid(quoted, out_len + 2);
	json_object_put(root);
	return ok;
}

/*
 * json_put_text: quotes, backslashes and control characters escaped,
 * UTF-8 as it is, each byte of anything else a U+FFFD, and a text that
 * does not fit cut before the first character that does not.
 */
static void
test_put_text(void)
{
	static const struct {
		const char	*label;
		const char	*text;
		size_t		 len;
		size_t		 cap;
		const char	*out;
		bool		 cut;
	} cases[] = {
		{ "plain", LIT("deploy: prod"), 64, "deploy: prod", false },
		{ "empty", LIT(""), 64, "", false },
		{ "quotes, backslash", LIT("say \"hi\" \\o/"), 64,
		    "say \\\"hi\\\" \\\\o/", false },
		{ "short escapes", LIT("a\nb\rc\td\be\ff"), 64,
		    "a\\nb\\rc\\td\\be\\ff", false },
		{ "other controls and DEL", LIT("\x01\x1f\x7f"), 64,
		    "\\u0001\\u001f\\u007f", false },
		{ "NUL", LIT("a\0b"), 64, "a\\u0000b", false },
		{ "slash as it is", LIT("a/b"), 64, "a/b", false },
		{ "UTF-8 as it is", LIT("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
		    64, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", false },
		{ "a byte that is no UTF-8", LIT("a\xff" "b"), 64,
		    "a\\ufffdb", false },
		{ "a stray continuation", LIT("\x80"), 64, "\\ufffd", false },
		{ "a sequence cut short", LIT("a\xc3"), 64, "a\\ufffd", false },
		{ "an overlong slash", LIT("\xc0\xaf"), 64, "\\ufffd\\ufffd",
		    false },
		{ "a surrogate", LIT("\xed\xa0\x80"), 64,
		    "\\ufffd\\ufffd\\ufffd", false },
		{ "above U+10FFFF", LIT("\xf4\x90\x80\x80"), 64,
		    "\\ufffd\\ufffd\\ufffd\\ufffd", false },
		{ "exactly full", LIT("abc"), 3, "abc", false },
		{ "cut", LIT("abcd"), 3, "abc", true },
		{ "nothing fits", LIT("a"), 0, "", true },
		{ "no half escape", LIT("ab\""), 3, "ab", true },
		{ "no half \\u escape", LIT("a\x01"), 6, "a", true },
		{ "no half replacement", LIT("a\xff"), 6, "a", true },
		{ "no half character", LIT("a\xe2\x82\xac"), 3, "a", true },
		{ "a whole character", LIT("a\xe2\x82\xac"), 4,
		    "a\xe2\x82\xac", false },
	};
	char out[256], shown[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool cut = !cases[i].cut;
		size_t n;

		memset(out, '#', sizeof(out));
		n = json_put_text(out, cases[i].cap, cases[i].text,
		    cases[i].len, &cut);
		CHECK(n == strlen(cases[i].out) &&
		    memcmp(out, cases[i].out, n) == 0 && cut == cases[i].cut,
		    "%s: got '%s' (%zu bytes), %s", cases[i].label,
		    printable(out, n, shown, sizeof(shown)), n,
		    cut ? "cut" : "whole");
		CHECK(out[n] == '#', "%s: wrote past its %zu bytes",
		    cases[i].label, n);
		CHECK(is_json_string(out, n), "%s: not a JSON string",
		    cases[i].label);
	}
}

/* Every byte, between two letters, and every cut of a mixed text, give JSON. */
static void
test_put_text_always_json(void)
{
	static const char mixed[] = "r\xc3\xa9sum\xc3\xa9 \"\\\x01\xff"
	    "\xe2\x82\xac\xf0\x9f\x98\x80\xc3 end";
	char text[3], out[256], shown[128];
	size_t whole, n;
	bool cut;

	for (unsigned b = 0; b < 256; b++) {
		text[0] = 'x';
		text[1] = (char)b;
		text[2] = 'y';
		n = json_put_text(out, sizeof(out), text, sizeof(text), &cut);
		CHECK(!cut && is_json_string(out, n), "byte 0x%02X: '%s'", b,
		    printable(out, n, shown, sizeof(shown)));
	}
	whole = json_put_text(out, sizeof(out), mixed, sizeof(mixed) - 1, &cut);
	for (size_t cap = 0; cap <= whole; cap++) {
		char part[256];

		n = json_put_text(part, cap, mixed, sizeof(mixed) - 1, &cut);
		CHECK(n <= cap && cut == (n < whole) &&
		    memcmp(part, out, n) == 0 && is_json_string(part, n),
		    "cut at %zu: '%s'", cap,
		    printable(part, n, shown, sizeof(shown)));
	}
}

static const CU_TestInfo json_tests[] = {
	{ "json_parse_deploy table", test_deploy_table },
	{ "json_parse_deploy metadata values", test_deploy_metadata_values },
	{ "json_parse_deploy report keys", test_deploy_report_keys },
	{ "json_parse_deploy lengths", test_deploy_lengths },
	{ "json_parse_deploy nesting", test_deploy_nesting },
	{ "json_parse_deploy respects len", test_deploy_respects_len },
	{ "json_parse_deploy clears its output", test_deploy_clears_output },
	{ "json_parse_export_header and _change", test_export_lines },
	{ "json_parse_export_change: a long createdAt", test_export_long_instant },
	{ "json_parse_export_change: removals", test_export_removal_lines },
	{ "json_render_services", test_render_services },
	{ "json_render_uint", test_render_uint },
	{ "json_render_problem", test_render_problem },
	{ "json_put_text", test_put_text },
	{ "json_put_text: always JSON", test_put_text_always_json },
	CU_TEST_INFO_NULL,
};

int
add_json_suite(void)
{
	return add_suite_with_tests("json", NULL, NULL, json_tests);
}
