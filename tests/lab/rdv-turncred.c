/* SPDX-License-Identifier: ISC */
/* Test-only (check_PROGRAMS): register once as a node would and print the TURN credentials the rendezvous sealed for it, for tests/integration/turncred.sh. */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "rdv-client.h"
#include "rdv-msg.h"
#include "rdv-turn.h"
#include "stun-msg.h"
#include "stun.h"

/*
 * rdv-turncred IPV4 PORT NETWORK NODE KEYFILE: one REGISTER over UDP (3
 * tries, 1 s each) and, from its answer, "RELAY USERNAME PASSWORD" on
 * stdout.  Exit 0; 2 when the answer has no TURN credentials or they do
 * not open; 1 on any other failure.  It prints secrets on purpose: the
 * test hands them to turnutils_uclient.
 */
int
main(int argc, char *argv[])
{
	struct rdv_client_id id;
	struct rdv_client_answer a;
	struct rdv_turn t;
	struct sockaddr_in sin;
	struct pollfd pfd;
	uint8_t key[CRYPTO_KEY_LEN], tid[RDV_CLIENT_TIDS][STUN_TID_LEN];
	uint8_t buf[STUN_MAX_MSG];
	char err[512], relay[INET6_ADDRSTRLEN + 8];
	const char *why = NULL;
	ssize_t n;
	int fd, len, try, r;

	if (argc != 6) {
		fprintf(stderr, "usage: rdv-turncred IPV4 PORT NETWORK NODE "
		    "KEYFILE\n");
		return 1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
		fprintf(stderr, "rdv-turncred: %s: not an IPv4 address\n",
		    argv[1]);
		return 1;
	}
	if (crypto_load(err, sizeof(err)) == -1 ||
	    crypto_key_read(argv[5], key, err, sizeof(err)) == -1) {
		fprintf(stderr, "rdv-turncred: %s\n", err);
		return 1;
	}
	rdv_client_id_init(&id, argv[3], argv[4], key);
	crypto_wipe(key, sizeof(key));
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		perror("rdv-turncred: socket");
		return 1;
	}
	for (try = 0; try < 3; try++) {
		len = rdv_client_register_build(&id, NULL, 0, 0,
		    rdv_client_wall_ms(), tid[try], buf, sizeof(buf));
		if (len == -1 || send(fd, buf, (size_t)len, 0) == -1) {
			perror("rdv-turncred: REGISTER");
			return 1;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		while (poll(&pfd, 1, 1000) == 1) {
			if ((n = recv(fd, buf, sizeof(buf), 0)) <= 0)
				break;
			if (rdv_client_check(RDV_REGISTER, &id,
			    (const uint8_t (*)[STUN_TID_LEN])tid,
			    (size_t)try + 1, buf, (size_t)n,
			    rdv_client_wall_ms(), &a, NULL, &why) == -1) {
				fprintf(stderr, "rdv-turncred: dropped: %s\n",
				    why);
				continue;
			}
			if (!a.ok) {
				fprintf(stderr, "rdv-turncred: error %d %s\n",
				    a.error_code, a.reason);
				return 1;
			}
			if ((r = rdv_client_turn_open(&id, buf, (size_t)n,
			    &t)) != 1) {
				fprintf(stderr, "rdv-turncred: %s\n",
				    r == -1 ? "TURN credentials that do not "
				    "open" : "no TURN credentials");
				return 2;
			}
			printf("%s %s %s\n", stun_addr_str(&t.relay, relay,
			    sizeof(relay)), t.username, t.password);
			rdv_turn_wipe(&t);
			rdv_client_id_wipe(&id);
			return 0;
		}
	}
	fprintf(stderr, "rdv-turncred: no answer\n");
	return 1;
}
