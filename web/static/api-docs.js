// The API reference page: Swagger UI over the OpenAPI document named by the page.
window.addEventListener("DOMContentLoaded", () => {
  const target = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: target.dataset.spec, domNode: target, deepLinking: true });
});
