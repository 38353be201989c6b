// SPDX-License-Identifier: Apache-2.0
/* buf, file, json helpers, base64, uuid, ws_accept, log. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "secret.h"
#include "buf.h"
#include "file.h"
#include "json.h"
#include "log.h"
#include "unit.h"
#include "uuid.h"
#include "ws_accept.h"

TEST(buf_append_consume_limit)
{
	struct buf b;
	buf_init(&b, 10);
	CHECK_INT(buf_append(&b, "hello", 5), 0);
	CHECK_INT(buf_printf(&b, "%d", 12345), 0);
	CHECK_INT(buf_append(&b, "x", 1), -ENOBUFS); /* over max: nothing changes */
	CHECK_SPAN(buf_head(&b), b.len, "hello12345");
	buf_consume(&b, 5);
	CHECK_SPAN(buf_head(&b), b.len, "12345");
	CHECK_INT(buf_append(&b, "abcde", 5), 0); /* reclaims the consumed prefix */
	CHECK_STR(buf_cstr(&b), "12345abcde");
	buf_consume(&b, 100);
	CHECK_INT(b.len, 0);
	buf_free(&b);

	buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%04d", i);
	CHECK_INT(b.len, 4000);
	CHECK(memcmp(buf_head(&b) + 3996, "0999", 4) == 0);
	buf_free(&b);
}

TEST(file_write_atomic_replaces_whole)
{
	char dir[] = "/tmp/unit-file-XXXXXX", path[64], tmp[96];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	CHECK_INT(file_write_atomic(path, "old content", 11, 0640), 0);
	CHECK_INT(file_write_atomic(path, "new", 3, 0600), 0);
	struct buf b;
	buf_init(&b, 0);
	CHECK_INT(buf_read_file(&b, path), 0);
	CHECK_SPAN(buf_head(&b), b.len, "new");
	buf_free(&b);
	struct stat st;
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	CHECK(access(tmp, F_OK) < 0); /* renamed away */
	/* A directory that is not there: the error, and nothing left behind. */
	char missing[96];
	snprintf(missing, sizeof(missing), "%s/no/such", dir);
	CHECK_INT(file_write_atomic(missing, "x", 1, 0600), -ENOENT);
	unlink(path);
	CHECK_INT(rmdir(dir), 0); /* empty: no temporary file stayed */
}

TEST(json_escape)
{
	struct buf b;
	buf_init(&b, 0);
	const char in[] = "a\"b\\c\n\t\x01<>&\xe2\x80\xa8\xff\xc3\xa9";
	json_buf_string(&b, in, sizeof(in) - 1, JSON_ESC_HTML);
	CHECK_STR(buf_cstr(&b),
		  "\"a\\\"b\\\\c\\n\\t\\u0001\\u003c\\u003e\\u0026\\u2028\xef\xbf\xbd\xc3\xa9\"");
	buf_reset(&b);
	json_buf_string(&b, "<x>\0y", 5, 0);
	CHECK_STR(buf_cstr(&b), "\"<x>\\u0000y\"");
	buf_reset(&b);
	/* Truncated and overlong UTF-8 sequences are replaced. */
	json_buf_string(&b, "\xe2\x82", 2, 0);
	CHECK_STR(buf_cstr(&b), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	buf_reset(&b);
	json_buf_string(&b, "\xc0\xaf", 2, 0);
	CHECK_STR(buf_cstr(&b), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	buf_free(&b);
}

TEST(json_getters)
{
	struct err e = {0};
	const char text[] = "{\"Command\":\"ls\",\"timeout\":1500,\"neg\":-1,\"frac\":1.5,"
			    "\"bg\":true,\"envs\":{\"A\":\"1\"},\"list\":[1],\"nul\":null}";
	cJSON *j = json_parse(text, sizeof(text) - 1, &e);
	CHECK(j != NULL);
	const char *s = NULL;
	int64_t v = 0;
	bool bv = false;
	const cJSON *o;
	CHECK_INT(json_get_string(j, "command", JSON_REQUIRED, &s, &e), 0); /* case-insensitive */
	CHECK_STR(s, "ls");
	CHECK_INT(json_get_int(j, "timeout", JSON_REQUIRED, 0, INT64_MAX, &v, &e), 0);
	CHECK_INT(v, 1500);
	CHECK_INT(json_get_int(j, "neg", JSON_REQUIRED, 0, INT64_MAX, &v, &e), -ERANGE);
	CHECK(strstr(e.msg, "'neg'") != NULL);
	CHECK_INT(json_get_int(j, "frac", JSON_REQUIRED, 0, 10, &v, &e), -EINVAL);
	CHECK(strstr(e.msg, "'frac' must be an integer") != NULL);
	CHECK_INT(json_get_bool(j, "bg", JSON_REQUIRED, &bv, &e), 0);
	CHECK(bv);
	CHECK_INT(json_get_object(j, "envs", JSON_REQUIRED, &o, &e), 0);
	CHECK_INT(json_get_array(j, "list", JSON_REQUIRED, &o, &e), 0);
	CHECK_INT(json_get_string(j, "timeout", JSON_REQUIRED, &s, &e), -EINVAL);
	CHECK(strstr(e.msg, "'timeout' must be a string") != NULL);
	err_clear(&e);
	CHECK_INT(json_get_string(j, "missing", JSON_OPTIONAL, &s, &e), -ENOENT);
	CHECK_INT(e.code, 0); /* optional: no error recorded */
	CHECK_INT(json_get_string(j, "nul", JSON_REQUIRED, &s, &e), -ENOENT);
	CHECK(strstr(e.msg, "'nul' is required") != NULL);
	cJSON_Delete(j);

	CHECK(json_parse("{\"a\":", 5, &e) == NULL);
	CHECK(strstr(e.msg, "invalid JSON") != NULL);
	CHECK(json_parse("", 0, &e) == NULL);
	CHECK_STR(e.msg, "empty body");
}

/* cJSON strings carry no length: a NUL inside one would hide the rest of the
 * value from every check, so such text never becomes a tree. */
TEST(json_parse_refuses_nul_in_strings)
{
	struct err e = {0};
	static const char *bad[] = {
		"{\"defaultAction\":\"deny\\u0000allow\"}",
		"[\"\\u0000\"]",
		"[\"a\\u00zz\"]", /* cJSON reads a bad \u escape as U+0000 */
		"[\"a\\u00\"]",
		"[\"\\\\\\u0000\"]", /* an escaped backslash, then \u0000 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		cJSON *j = json_parse(bad[i], strlen(bad[i]), &e);
		if (j || !strstr(e.msg, "NUL"))
			unit_fail(__FILE__, __LINE__, "%s: parsed=%d msg=\"%s\"", bad[i], j != NULL,
				  e.msg);
		cJSON_Delete(j);
	}
	/* a raw NUL byte inside a string */
	const char raw[] = "[\"deny\0allow\"]";
	CHECK(json_parse(raw, sizeof(raw) - 1, &e) == NULL);
	CHECK(strstr(e.msg, "near byte 6") != NULL);

	/* "\\u0000" is a backslash and the text u0000; other escapes still decode */
	const char ok[] = "[\"\\\\u0000\",\"\\u0041\\u00e9\\ud83d\\ude00\"]";
	cJSON *j = json_parse(ok, sizeof(ok) - 1, &e);
	CHECK(j != NULL);
	if (j) {
		CHECK_STR(cJSON_GetArrayItem(j, 0)->valuestring, "\\u0000");
		CHECK_STR(cJSON_GetArrayItem(j, 1)->valuestring, "A\xc3\xa9\xf0\x9f\x98\x80");
	}
	cJSON_Delete(j);
}

TEST(base64_vectors)
{
	/* RFC 4648 section 10. */
	static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const enc[] = {"",	      "Zg==",	  "Zm8=",    "Zm9v",
					  "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	for (int i = 0; i < 7; i++) {
		char out[16], back[16];
		size_t n = base64_encode(out, plain[i], strlen(plain[i]));
		CHECK_STR(out, enc[i]);
		CHECK_INT(n, strlen(enc[i]));
		long m = base64_decode(back, sizeof(back), enc[i], strlen(enc[i]));
		CHECK_INT(m, strlen(plain[i]));
		CHECK(memcmp(back, plain[i], (size_t)(m > 0 ? m : 0)) == 0);
	}
	char d[8];
	CHECK_INT(base64_decode(d, sizeof(d), "Zm9", 3), -1);
	CHECK_INT(base64_decode(d, sizeof(d), "Zm=v", 4), -1);
	CHECK_INT(base64_decode(d, sizeof(d), "Z!9v", 4), -1);
	CHECK_INT(base64_decode(d, 2, "Zm9v", 4), -1);		   /* no room */
	CHECK_INT(base64_decode(d, sizeof(d), "Zg==Zg==", 8), -1); /* padding inside */
}

TEST(uuid_format)
{
	char s[UUID_STR_LEN], h[UUID_HEX_LEN], s2[UUID_STR_LEN];
	CHECK_INT(uuid_v4_str(s), 0);
	CHECK_INT(uuid_v4_str(s2), 0);
	CHECK_INT(uuid_v4_hex(h), 0);
	CHECK_INT(strlen(s), 36);
	CHECK_INT(strlen(h), 32);
	CHECK(s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-');
	CHECK(s[14] == '4');
	CHECK(strchr("89ab", s[19]) != NULL);
	CHECK(h[12] == '4');
	CHECK(strcmp(s, s2) != 0);
	CHECK_INT(strspn(h, "0123456789abcdef"), 32);
}

TEST(ws_accept_rfc6455)
{
	char out[WS_ACCEPT_LEN];
	const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
	ws_accept_key(key, sizeof(key) - 1, out);
	CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(log_json_lines)
{
	int p[2];
	CHECK(pipe(p) == 0);
	log_init("unit", LOG_INFO, p[1]);
	log_msg(LOG_DEBUG, NULL, "hidden", NULL);
	log_msg(LOG_WARN, "rid-1", "said \"hi\"", "port", "44772", "path", "/a\nb", NULL);
	log_init("unit", LOG_INFO, 2);
	close(p[1]);
	char line[512] = "";
	ssize_t n = read(p[0], line, sizeof(line) - 1);
	close(p[0]);
	CHECK(n > 0);
	line[n > 0 ? n : 0] = '\0';
	CHECK(strstr(line, "hidden") == NULL);
	CHECK(strstr(line,
		     "\"level\":\"warn\",\"prog\":\"unit\",\"msg\":\"said \\\"hi\\\"\","
		     "\"request_id\":\"rid-1\",\"port\":\"44772\",\"path\":\"/a\\nb\"}\n") != NULL);
	CHECK(strncmp(line, "{\"ts\":\"20", 9) == 0);
	CHECK_INT(log_level_parse("debug"), LOG_DEBUG);
	CHECK_INT(log_level_parse("3"), LOG_ERROR);
	CHECK_INT(log_level_parse("loud"), -1);
}

/* A file of n bytes read with a buffer limit of max (0: none). */
static int read_sized(size_t n, size_t max, size_t *got)
{
	char path[] = "/tmp/buf-read-XXXXXX";
	int fd = mkstemp(path);
	char *data = malloc(n ? n : 1);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 7);
	if (fd < 0 || write(fd, data, n) != (ssize_t)n)
		return -999;
	lseek(fd, 0, SEEK_SET);
	unlink(path);
	struct buf b;
	buf_init(&b, max);
	int r = buf_read_fd(&b, fd);
	*got = b.len;
	if (r == 0 && (b.len != n || memcmp(buf_head(&b), data, n) != 0))
		r = -998;
	buf_free(&b);
	free(data);
	close(fd);
	return r;
}

TEST(buf_read_fd_limits)
{
	size_t got;
	CHECK_INT(read_sized(0, 0, &got), 0);
	CHECK_INT(read_sized(200000, 0, &got), 0);
	/* Exactly at the limit, and just under it by less than one read: whole. */
	CHECK_INT(read_sized(100000, 100000, &got), 0);
	CHECK_INT(read_sized(99990, 100000, &got), 0);
	/* One byte over: refused, never more than the limit held. */
	CHECK_INT(read_sized(100001, 100000, &got), -EFBIG);
	CHECK(got <= 100000);
	CHECK_INT(read_sized(5, 4, &got), -EFBIG);
	CHECK_INT(read_sized(3, 4, &got), 0);
	struct buf b;
	buf_init(&b, 0);
	CHECK_INT(buf_read_fd(&b, -1), -EBADF);
	buf_free(&b);
}

/* The element count a limit is checked against before a parse. */
TEST(json_parse_refuses_duplicate_keys)
{
	struct err e = {0};
	static const char *bad[] = {
		"{\"a\":\"b\",\"a\":\"c\"}",
		"{\"metadata\":{\"k\":\"1\",\"x\":\"2\",\"k\":\"3\"}}",
		"[{},{\"deep\":[{\"z\":1,\"z\":1}]}]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		cJSON *j = json_parse(bad[i], strlen(bad[i]), &e);
		if (j || !strstr(e.msg, "duplicate key"))
			unit_fail(__FILE__, __LINE__, "%s: parsed=%d msg=\"%s\"", bad[i], j != NULL,
				  e.msg);
		cJSON_Delete(j);
	}
	/* One value only: anything but blanks after it is refused. */
	err_clear(&e);
	cJSON *t = json_parse("{\"a\":1} xx", 10, &e);
	CHECK(t == NULL && strstr(e.msg, "data after the value") != NULL);
	t = json_parse("{\"a\":1} \r\n\t", 11, &e);
	CHECK(t != NULL);
	cJSON_Delete(t);
	t = json_parse("[1][2]", 6, &e);
	CHECK(t == NULL);
	/* Keys differing in case are different keys; the same key in two objects is fine. */
	const char ok[] = "{\"a\":1,\"A\":2,\"o\":{\"a\":3},\"p\":[{\"a\":4},{\"a\":5}]}";
	cJSON *j = json_parse(ok, sizeof(ok) - 1, &e);
	CHECK(j != NULL);
	cJSON_Delete(j);
	/* A large object: every key distinct, then one repeated at the end. */
	struct buf b;
	buf_init(&b, 0);
	buf_puts(&b, "{");
	for (int i = 0; i < 5000; i++)
		buf_printf(&b, "\"k%d\":%d,", i, i);
	buf_puts(&b, "\"k4999\":0}");
	err_clear(&e);
	j = json_parse(buf_head(&b), b.len, &e);
	CHECK(j == NULL && strstr(e.msg, "\"k4999\"") != NULL);
	buf_free(&b);
}

TEST(json_array_len_counts_top_level)
{
	static const struct {
		const char *in;
		long want;
	} cases[] = {
		{"[]", 0},
		{" \n[ ]", 0},
		{"[1]", 1},
		{"[1,2,3]", 3},
		{"[{\"a\":[1,2,{\"b\":\",]\"}]},\"x,y\",[[],[]]]", 3},
		{"[\"\\\"],[\"]", 1}, /* an escaped quote stays inside the string */
		{"[\"\\\\\",1]", 2},  /* an escaped backslash ends before the quote */
		{"\xef\xbb\xbf[1,2]", 2},
		{"[1,2] trailing", 2},
		{"{\"a\":[1]}", -1},
		{"1", -1},
		{"", -1},
		{"[1,2", -1},
		{"[{]", -1},
		{"[\"open", -1},
		{"[\"\\", -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long n = json_array_len(cases[i].in, strlen(cases[i].in));
		if (n != cases[i].want)
			unit_fail(__FILE__, __LINE__, "%s: %ld, want %ld", cases[i].in, n,
				  cases[i].want);
	}
}

TEST(secret_equal_cases)
{
	CHECK(secret_equal("secret", "secret"));
	CHECK(!secret_equal("secret", "secreT"));
	CHECK(!secret_equal("secret", "secret2"));
	CHECK(!secret_equal("secret2", "secret"));
	CHECK(!secret_equal("", "x"));
	CHECK(!secret_equal("x", ""));
	CHECK(secret_equal("", ""));
}
