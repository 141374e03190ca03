package dev.blockpull.api;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tomcat's own error page, as a problem. Requests that Tomcat refuses before any servlet sees
 * them (an encoded NUL or slash in the path, a request line or header over the limit, control
 * characters in a header, a method no servlet takes such as CONNECT) would otherwise be
 * answered with Tomcat's HTML page; every error of the API is application/problem+json.
 */
final class ProblemErrorReportValve extends ErrorReportValve {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Tomcat's reason is shown when it is short plain text: it says what was wrong with the request. */
    private static final Pattern PLAIN = Pattern.compile("[\\x20-\\x7e]{1,200}");

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        ProblemType type = ProblemType.forStatus(status);
        String message = response.getMessage();
        String detail = message != null && PLAIN.matcher(message).matches()
                ? "The request was refused by the HTTP server: " + message
                : "The request was refused by the HTTP server (" + type.title() + ")";
        ProblemDetail problem = Problems.create(type, QmpErrorClass.GENERIC_ERROR, detail);
        String uri = request.getRequestURI();
        if (uri != null && PLAIN.matcher(uri).matches()) {
            Problems.setInstance(problem, uri);
        }
        try {
            byte[] body = JSON.writeValueAsBytes(Problems.asMap(problem));
            response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
            response.setCharacterEncoding(StandardCharsets.UTF_8.name());
            response.setContentLength(body.length);
            OutputStream out = response.getOutputStream();
            out.write(body);
            out.flush();
        } catch (IOException | IllegalStateException e) {
            // the client is gone or the response cannot take a body: nothing more to say
        }
    }
}
