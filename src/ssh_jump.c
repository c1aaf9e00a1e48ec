/* Reaching a guest through its libvirt host's sshd: a direct-tcpip channel on
 * a session to the host, pumped by a thread to one end of a socketpair whose
 * other end carries the inner session (SSH_OPTIONS_FD). Nothing runs `ssh`. */
#include "ssh_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/err.h"
#include "util/mem.h"

struct sshx_bridge {
	struct vl_ssh *jump;
	ssh_channel ch;
	int fd;           /* our end of the socketpair */
	int inner;        /* the inner session's end (libssh does not close it) */
	int stop[2];      /* a byte here ends the pump */
	pthread_t thread;
};

/* Both ways until either side ends or we are told to stop. The jump
 * session is this thread's alone once it runs. libssh may already hold
 * channel data read while writing, so the channel is read after every
 * wake-up, and poll wakes at least every 50 ms. */
static void *pump(void *ud)
{
	struct sshx_bridge *b = ud;
	char buf[32768];
	bool local_eof = false;

	for (;;) {
		struct pollfd p[3] = {
			{ .fd = local_eof ? -1 : b->fd, .events = POLLIN },
			{ .fd = ssh_get_fd(b->jump->sess), .events = POLLIN },
			{ .fd = b->stop[0], .events = POLLIN },
		};
		int n;

		if (poll(p, 3, 50) < 0 && errno != EINTR)
			break;
		if (p[2].revents)
			break;
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(b->fd, buf, sizeof(buf));
			if (r > 0) {
				if (ssh_channel_write(b->ch, buf, (uint32_t)r) != r)
					break;
			} else if (r == 0 || errno != EINTR) {
				ssh_channel_send_eof(b->ch);
				local_eof = true;
			}
		}
		while ((n = ssh_channel_read_nonblocking(b->ch, buf, sizeof(buf), 0)) > 0) {
			if (sshx_write_all(b->fd, buf, (size_t)n) < 0)
				goto out;
		}
		if (n == SSH_ERROR || ssh_channel_is_eof(b->ch) || ssh_channel_is_closed(b->ch))
			break;
	}
out:
	/* the inner session sees the end of its connection */
	shutdown(b->fd, SHUT_RDWR);
	return NULL;
}

static void bridge_free(struct sshx_bridge *b)
{
	if (b->ch) {
		ssh_channel_close(b->ch);
		ssh_channel_free(b->ch);
	}
	vl_ssh_free(b->jump);
	if (b->fd >= 0)
		close(b->fd);
	if (b->inner >= 0)
		close(b->inner);
	if (b->stop[0] >= 0)
		close(b->stop[0]);
	if (b->stop[1] >= 0)
		close(b->stop[1]);
	free(b);
}

struct sshx_bridge *sshx_bridge_open(const struct vl_ssh_target *jump, const char *host,
				     unsigned port, long timeout_ms, int *fd, bool *retry,
				     struct vl_err *err)
{
	struct vl_ssh_target jt = *jump;
	struct sshx_bridge *b = vl_calloc(1, sizeof(*b));
	int sv[2];

	b->fd = b->inner = b->stop[0] = b->stop[1] = -1;
	*retry = false;
	jt.retry_timeout = 0;
	if (sshx_connect_once(&jt, timeout_ms, &b->jump, retry, err) < 0) {
		vl_err_prefix(err, "jump host");
		goto fail;
	}
	b->ch = ssh_channel_new(b->jump->sess);
	if (!b->ch)
		abort();
	if (ssh_channel_open_forward(b->ch, host, (int)port, "127.0.0.1", 0) != SSH_OK) {
		/* the guest does not listen yet, or the host does not forward */
		vl_err_set(err, VL_E_SSH, "jump host %s did not open a channel to %s:%u: %s",
			   b->jump->where, host, port, ssh_get_error(b->jump->sess));
		*retry = true;
		goto fail;
	}
	if (pipe2(b->stop, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		vl_err_sys(err, VL_E_SSH, errno, "socketpair for the jump");
		goto fail;
	}
	b->fd = sv[1];
	b->inner = sv[0];
	if (pthread_create(&b->thread, NULL, pump, b) != 0) {
		vl_err_set(err, VL_E_SSH, "cannot start the jump's thread");
		goto fail;
	}
	*fd = sv[0];
	return b;
fail:
	bridge_free(b);
	return NULL;
}

void sshx_bridge_close(struct sshx_bridge *b)
{
	if (!b)
		return;
	/* cannot fail but by a full pipe, which says stop as well */
	(void)!write(b->stop[1], "x", 1);
	pthread_join(b->thread, NULL);
	bridge_free(b);
}
