/*
 * LD_PRELOAD shim for bench/keepalived.mjs: answers keepalived's IPVS socket options
 * (IP_VS_SO_GET_* / IP_VS_SO_SET_*, which libipvs uses when the kernel has no "IPVS"
 * generic-netlink family) without a kernel IPVS, so that keepalived runs its checkers
 * on a machine without ip_vs and every table change it makes is observable.
 *
 * Each SET call is appended to $KA_SHIM_LOG as one line:
 *   <ms since the epoch> <op> <vip:vport> <rip:rport|-> <weight|->
 * (op: ADD EDIT DEL FLUSH ADDDEST EDITDEST DELDEST TIMEOUT ZERO OTHER<n>), written with one
 * write(2) so a reader never sees half a line. The destination count is kept only for
 * IP_VS_SO_GET_INFO; the listings (GET_SERVICES / GET_DESTS), which keepalived reads only
 * for SNMP statistics, answer empty.
 *
 * Raw IPPROTO_RAW sockets need CAP_NET_RAW: socket(AF_INET, SOCK_RAW, IPPROTO_RAW) is
 * answered with a UDP socket, which is never used for anything but these options.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ip_vs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int log_fd = -2;
static unsigned int services;

static int shim_log_fd(void)
{
	if (log_fd == -2) {
		const char *path = getenv("KA_SHIM_LOG");
		log_fd = path ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
	}
	return log_fd;
}

static void addr_text(char *out, size_t n, __be32 addr, __be16 port)
{
	char ip[INET_ADDRSTRLEN];
	struct in_addr a = { .s_addr = addr };
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	snprintf(out, n, "%s:%u", ip, (unsigned)ntohs(port));
}

static void record(const char *op, const struct ip_vs_service_user *svc, const struct ip_vs_dest_user *dest)
{
	int fd = shim_log_fd();
	if (fd < 0)
		return;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	char vip[32] = "-", rip[32] = "-", weight[16] = "-", line[160];
	if (svc)
		addr_text(vip, sizeof(vip), svc->addr, svc->port);
	if (dest) {
		addr_text(rip, sizeof(rip), dest->addr, dest->port);
		snprintf(weight, sizeof(weight), "%d", dest->weight);
	}
	int len = snprintf(line, sizeof(line), "%lld %s %s %s %s\n",
			   (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000, op, vip, rip, weight);
	if (len > 0 && write(fd, line, (size_t)len) < 0) {
		/* nothing to do: the log is the bench's, a lost line shows as a missed change */
	}
}

static int is_ipvs(int level, int optname)
{
	return level == IPPROTO_IP && optname >= IP_VS_BASE_CTL && optname <= IP_VS_SO_SET_MAX;
}

int socket(int domain, int type, int protocol)
{
	static int (*real_socket)(int, int, int);
	if (!real_socket)
		real_socket = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
	if (domain == AF_INET && (type & 0xf) == SOCK_RAW && protocol == IPPROTO_RAW)
		return real_socket(AF_INET, SOCK_DGRAM | (type & ~0xf), 0);
	return real_socket(domain, type, protocol);
}

int setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)
{
	static int (*real_setsockopt)(int, int, int, const void *, socklen_t);
	if (!is_ipvs(level, optname)) {
		if (!real_setsockopt)
			real_setsockopt = (int (*)(int, int, int, const void *, socklen_t))dlsym(RTLD_NEXT, "setsockopt");
		return real_setsockopt(fd, level, optname, optval, optlen);
	}
	const struct ip_vs_service_user *svc = optlen >= sizeof(*svc) ? optval : NULL;
	const struct ip_vs_dest_user *dest =
		optlen >= sizeof(*svc) + sizeof(*dest) ? (const void *)((const char *)optval + sizeof(*svc)) : NULL;
	char other[24];
	switch (optname) {
	case IP_VS_SO_SET_ADD: services++; record("ADD", svc, NULL); break;
	case IP_VS_SO_SET_EDIT: record("EDIT", svc, NULL); break;
	case IP_VS_SO_SET_DEL: if (services) services--; record("DEL", svc, NULL); break;
	case IP_VS_SO_SET_FLUSH: services = 0; record("FLUSH", NULL, NULL); break;
	case IP_VS_SO_SET_ADDDEST: record("ADDDEST", svc, dest); break;
	case IP_VS_SO_SET_EDITDEST: record("EDITDEST", svc, dest); break;
	case IP_VS_SO_SET_DELDEST: record("DELDEST", svc, dest); break;
	case IP_VS_SO_SET_TIMEOUT: record("TIMEOUT", NULL, NULL); break;
	case IP_VS_SO_SET_ZERO: record("ZERO", svc, NULL); break;
	default:
		snprintf(other, sizeof(other), "OTHER%d", optname - IP_VS_BASE_CTL);
		record(other, NULL, NULL);
	}
	return 0;
}

int getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen)
{
	static int (*real_getsockopt)(int, int, int, void *, socklen_t *);
	if (!is_ipvs(level, optname)) {
		if (!real_getsockopt)
			real_getsockopt = (int (*)(int, int, int, void *, socklen_t *))dlsym(RTLD_NEXT, "getsockopt");
		return real_getsockopt(fd, level, optname, optval, optlen);
	}
	switch (optname) {
	case IP_VS_SO_GET_VERSION: {
		static const char text[] = "IP Virtual Server version 1.2.1 (size=4096)";
		if (*optlen < sizeof(text)) { errno = EINVAL; return -1; }
		memcpy(optval, text, sizeof(text));
		return 0;
	}
	case IP_VS_SO_GET_INFO: {
		struct ip_vs_getinfo info = { .version = 0x010201, .size = 4096, .num_services = services };
		if (*optlen < sizeof(info)) { errno = EINVAL; return -1; }
		memcpy(optval, &info, sizeof(info));
		return 0;
	}
	case IP_VS_SO_GET_TIMEOUT: {
		struct ip_vs_timeout_user t = { .tcp_timeout = 900, .tcp_fin_timeout = 120, .udp_timeout = 300 };
		if (*optlen < sizeof(t)) { errno = EINVAL; return -1; }
		memcpy(optval, &t, sizeof(t));
		return 0;
	}
	case IP_VS_SO_GET_SERVICES:
		if (*optlen >= sizeof(struct ip_vs_get_services))
			((struct ip_vs_get_services *)optval)->num_services = 0;
		return 0;
	case IP_VS_SO_GET_DESTS:
		if (*optlen >= sizeof(struct ip_vs_get_dests))
			((struct ip_vs_get_dests *)optval)->num_dests = 0;
		return 0;
	default:
		errno = ESRCH;
		return -1;
	}
}
