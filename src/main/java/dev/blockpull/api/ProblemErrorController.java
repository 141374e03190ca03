package dev.blockpull.api;

import io.swagger.v3.oas.annotations.Hidden;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Errors that the servlet container sends itself (a {@code sendError}, e.g. Tomcat's 405 for
 * TRACE) are forwarded to {@code /error}: answer them as problems too, in place of Spring Boot's
 * JSON error body, which has another shape.
 */
@Hidden
@RestController
class ProblemErrorController implements ErrorController {

    @RequestMapping("${server.error.path:${error.path:/error}}")
    ResponseEntity<ProblemDetail> error(HttpServletRequest request) {
        int status = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE) instanceof Integer s
                ? s
                : HttpStatus.INTERNAL_SERVER_ERROR.value();
        ProblemType type = ProblemType.forStatus(status);
        ProblemDetail problem = Problems.create(type, QmpErrorClass.GENERIC_ERROR, type.title());
        problem.setStatus(status);
        if (request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI) instanceof String uri) {
            Problems.setInstance(problem, uri);
        }
        return ResponseEntity.status(status)
                .contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .body(problem);
    }
}
