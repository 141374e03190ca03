package dev.blockpull.api;

import dev.blockpull.ops.BlockpullProperties;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.jspecify.annotations.Nullable;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Refuses request bodies above {@code blockpull.http.max-request-size} with 413: at once when
 * Content-Length says so, or while reading when the body comes chunked. Servlet containers do not
 * limit JSON bodies by themselves, and no endpoint of this API needs more than a few kilobytes.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 10)
class RequestSizeLimitFilter extends OncePerRequestFilter {

    private final long limit;
    private final JsonMapper json;

    RequestSizeLimitFilter(BlockpullProperties properties, JsonMapper json) {
        this.limit = properties.http().maxRequestSize().toBytes();
        this.json = json;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        long length = request.getContentLengthLong();
        if (length > limit) {
            ProblemDetail problem = Problems.create(
                    ProblemType.PAYLOAD_TOO_LARGE,
                    QmpErrorClass.GENERIC_ERROR,
                    "Request body of " + length + " bytes is larger than the limit of " + limit
                            + " bytes (blockpull.http.max-request-size)");
            Problems.setInstance(problem, request.getRequestURI());
            response.setStatus(problem.getStatus());
            response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
            // The body is left unread: ask the client not to reuse a connection it may still be writing to.
            response.setHeader("Connection", "close");
            json.writeValue(response.getOutputStream(), Problems.asMap(problem));
            return;
        }
        chain.doFilter(length < 0 ? new Limited(request, limit) : request, response);
    }

    /** Counts the bytes of a body of unknown length and fails the read past the limit. */
    private static final class Limited extends HttpServletRequestWrapper {

        private final long limit;
        private @Nullable ServletInputStream stream;

        Limited(HttpServletRequest request, long limit) {
            super(request);
            this.limit = limit;
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (stream == null) {
                stream = new Counting(super.getInputStream(), limit);
            }
            return stream;
        }
    }

    private static final class Counting extends ServletInputStream {

        private final ServletInputStream in;
        private final long limit;
        private long count;

        Counting(ServletInputStream in, long limit) {
            this.in = in;
            this.limit = limit;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                add(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            int n = in.read(buf, off, len);
            if (n > 0) {
                add(n);
            }
            return n;
        }

        private void add(int n) throws PayloadTooLargeException {
            count += n;
            if (count > limit) {
                throw new PayloadTooLargeException(limit);
            }
        }

        @Override
        public boolean isFinished() {
            return in.isFinished();
        }

        @Override
        public boolean isReady() {
            return in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }
    }
}
