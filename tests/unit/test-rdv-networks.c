/* SPDX-License-Identifier: ISC */
/* Unit tests of rdv-networks.c: the networks file of natmapd-rendezvous. */
#include "config.h"

#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include "crypto.h"
#include "rdv-networks.h"

/* base64 of bytes 0..31, 32..63, and 32 times 0xff */
#define K1	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define K2	"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define K3	"//////////////////////////////////////////8="

static int
parse(struct rdv_networks *n, const char *text, char *err, size_t errlen)
{
	int rc;
	char *copy = malloc(strlen(text) + 1);

	/* exactly the text's bytes, no NUL after them */
	assert_non_null(copy);
	memcpy(copy, text, strlen(text));
	rc = rdv_networks_parse(n, "nets", copy, strlen(text), err, errlen);
	free(copy);
	return rc;
}

static void
assert_refused(const char *text, const char *want)
{
	struct rdv_networks n;
	char err[512];

	err[0] = '\0';
	assert_int_equal(parse(&n, text, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_null(n.v);
	assert_int_equal(n.n, 0);
	/* a key's text never in a message */
	assert_null(strstr(err, "AAEC"));
	assert_null(strstr(err, "ICEi"));
	assert_null(strstr(err, "////"));
}

static void
test_good(void **state)
{
	struct rdv_networks n;
	const struct rdv_network *f;
	uint8_t k[CRYPTO_KEY_LEN];
	char err[256];
	int i;

	(void)state;
	assert_int_equal(parse(&n, "# the lab\n\nzeta " K1 "\n"
	    "  office.example_2-x\t" K2 "   # a comment\n"
	    "lab " K3 "\r\n" "last " K1, err, sizeof(err)), 0);
	assert_int_equal(n.n, 4);
	/* sorted by name */
	assert_string_equal(n.v[0].name, "lab");
	assert_string_equal(n.v[1].name, "last");
	assert_string_equal(n.v[2].name, "office.example_2-x");
	assert_string_equal(n.v[3].name, "zeta");
	assert_int_equal(n.v[0].line, 5);
	assert_int_equal(n.v[3].line, 3);
	f = rdv_networks_find(&n, "office.example_2-x", 18);
	assert_non_null(f);
	for (i = 0; i < 32; i++)
		k[i] = (uint8_t)(32 + i);
	assert_memory_equal(f->key, k, 32);
	memset(k, 0xff, sizeof(k));
	assert_memory_equal(rdv_networks_find(&n, "lab", 3)->key, k, 32);
	/* a prefix, a longer name, an absent one, a NUL inside */
	assert_null(rdv_networks_find(&n, "la", 2));
	assert_null(rdv_networks_find(&n, "labx", 4));
	assert_null(rdv_networks_find(&n, "home", 4));
	assert_null(rdv_networks_find(&n, "lab\0x", 5));
	assert_ptr_equal(rdv_networks_find(&n, "zeta!", 4), &n.v[3]);
	rdv_networks_free(&n);
	assert_null(n.v);
	assert_int_equal(n.n, 0);
}

static void
test_empty(void **state)
{
	struct rdv_networks n;
	char err[256];

	(void)state;
	assert_int_equal(parse(&n, "", err, sizeof(err)), 0);
	assert_int_equal(n.n, 0);
	assert_int_equal(parse(&n, "# none\n  \n\t# still none\n", err,
	    sizeof(err)), 0);
	assert_int_equal(n.n, 0);
	assert_null(rdv_networks_find(&n, "a", 1));
	rdv_networks_free(&n);
}

static void
test_names(void **state)
{
	(void)state;
	assert_true(rdv_network_name_valid("a", 1));
	assert_true(rdv_network_name_valid("A-Z_a.z09", 9));
	assert_true(rdv_network_name_valid(
	    "abcdefghijklmnopqrstuvwxyz012345", 32));
	assert_false(rdv_network_name_valid(
	    "abcdefghijklmnopqrstuvwxyz0123456", 33));
	assert_false(rdv_network_name_valid("", 0));
	assert_false(rdv_network_name_valid("a/b", 3));
	assert_false(rdv_network_name_valid("a b", 3));
	assert_false(rdv_network_name_valid("caf\xc3\xa9", 5));
	assert_refused("a/b " K1 "\n",
	    "nets:1: bad network name (1 to 32 of A-Z a-z 0-9 . _ -)");
	assert_refused("# x\nabcdefghijklmnopqrstuvwxyz0123456 " K1 "\n",
	    "nets:2: bad network name (1 to 32 of A-Z a-z 0-9 . _ -)");
}

static void
test_refused(void **state)
{
	(void)state;
	assert_refused("home\n", "nets:1: expected NAME SERVER-KEY");
	assert_refused("home " K1 " more\n",
	    "nets:1: expected NAME SERVER-KEY");
	assert_refused("\n\nhome " K1 "x\n",
	    "nets:3: network home: not a server key (44 characters of "
	    "base64, as natmapd --server-key prints)");
	/* one character short, one wrong */
	assert_refused("home AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
	    "nets:1: network home: not a server key (44 characters of "
	    "base64, as natmapd --server-key prints)");
	assert_refused("home AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*=\n",
	    "nets:1: network home: not a server key (44 characters of "
	    "base64, as natmapd --server-key prints)");
	assert_refused("home " K1 "\nwork " K2 "\nhome " K3 "\n",
	    "nets:3: network home already on line 1");
}

static void
test_nul(void **state)
{
	struct rdv_networks n;
	char err[256];
	static const char text[] = "home " K1 "\n\0x";

	(void)state;
	assert_int_equal(rdv_networks_parse(&n, "nets", text, sizeof(text) - 1,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "nets: a NUL byte: not a text file");
}

static void
test_long_line(void **state)
{
	char *text = malloc(2000);

	(void)state;
	assert_non_null(text);
	memset(text, ' ', 1999);
	text[1999] = '\0';
	assert_refused(text, "nets:1: line longer than 1024 bytes");
	free(text);
}

/* The file: mode checked as crypto_key_read does; the data files parse as expected. */
static void
test_load(void **state)
{
	struct rdv_networks n;
	char path[] = "/tmp/natmapd-test-nets.XXXXXX", err[512], src[4096];
	const char *text = "a " K1 "\nb " K2 "\n";
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(rdv_networks_load(&n, path, err, sizeof(err)), 0);
	assert_int_equal(n.n, 2);
	rdv_networks_free(&n);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(rdv_networks_load(&n, path, err, sizeof(err)), 0);
	rdv_networks_free(&n);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(rdv_networks_load(&n, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "others may read or write it (mode 0644)"));
	assert_null(n.v);
	assert_int_equal(chmod(path, 0602), 0);
	assert_int_equal(rdv_networks_load(&n, path, err, sizeof(err)), -1);
	unlink(path);
	assert_int_equal(rdv_networks_load(&n, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(rdv_networks_load(&n, "/tmp", err, sizeof(err)), -1);
	assert_string_equal(err, "/tmp: not a regular file");

	/* tests/data/networks/good.txt: 3 networks (read through parse) */
	{
		size_t len;
		char *buf = tu_read("networks/good.txt", &len);

		snprintf(src, sizeof(src), "good.txt");
		assert_int_equal(rdv_networks_parse(&n, src, buf, len, err,
		    sizeof(err)), 0);
		assert_int_equal(n.n, 3);
		rdv_networks_free(&n);
		free(buf);
		buf = tu_read("networks/duplicate.txt", &len);
		assert_int_equal(rdv_networks_parse(&n, "d", buf, len, err,
		    sizeof(err)), -1);
		assert_string_equal(err, "d:2: network home already on line 1");
		free(buf);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_load),
	};

	return TU_RUN("rdv-networks", tests);
}
