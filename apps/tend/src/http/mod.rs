//! The REST facade: JSON under `/api/v1`, bearer-token auth, one error shape, and an OpenAPI
//! document generated from the handlers.

pub mod appointments;
pub mod auth;
pub mod error;
pub mod handlers;
pub mod rostering;

use std::net::TcpListener;

use actix_web::{dev::Server, web, App, HttpResponse, HttpServer};
use tend_store::Store;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use handlers::*;

/// The largest JSON body accepted.
pub const MAX_JSON_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Tend", description = "Operations platform for care centers"),
    paths(
        login, logout, create_site, list_sites, create_user, create_client, list_clients,
        get_client, update_client, transition_client, list_transitions, list_audit, healthz,
        appointments::create_staff, appointments::list_staff, appointments::get_staff,
        appointments::set_working_hours, appointments::add_time_off, appointments::add_resource_time_off, appointments::staff_calendar,
        appointments::create_resource, appointments::list_resources,
        appointments::resource_calendar, appointments::create_service,
        appointments::list_services, appointments::get_service, appointments::update_service,
        appointments::deactivate_service, appointments::deactivate_resource, appointments::find_slots,
        appointments::create_booking, appointments::create_series, appointments::list_bookings,
        appointments::get_booking, appointments::reschedule_booking,
        appointments::booking_action, appointments::booking_reminders,
        appointments::client_no_shows, appointments::join_waitlist, appointments::list_waitlist,
        appointments::accept_offer,
        rostering::set_staff_rostering, rostering::get_staff_rostering, rostering::request_leave,
        rostering::list_leave, rostering::decide_leave, rostering::create_shift_type,
        rostering::list_shift_types, rostering::set_demand, rostering::get_demand,
        rostering::set_client_stay, rostering::create_period, rostering::list_periods,
        rostering::get_period, rostering::start_solve, rostering::get_solve_job,
        rostering::cancel_solve_job, rostering::edit_assignment, rostering::publish,
        rostering::repair, rostering::request_swap, rostering::decide_swap,
        rostering::roster_csv, rostering::roster_ics
    ),
    components(schemas(
        error::ErrorBody, error::ErrorDetail, LoginRequest, LoginResponse, SiteRequest,
        SiteResponse, UserRequest, UserResponse, ClientDocument, ClientCreateRequest,
        ClientPatchRequest, PossibleDuplicateResponse,
        CreatedClientResponse, ClientPageResponse, TransitionRequest, TransitionResponse,
        TransitionOutcomeResponse, AuditEventResponse, AuditPageResponse, HealthResponse
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

/// A resource that answers 405 in the API's error shape for methods it does not route.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

/// Registers the whole API on an app: state, body limits, error shapes and routes. Used by
/// `tend serve` and by the black-box tests.
pub fn configure(store: Store) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    move |config: &mut web::ServiceConfig| {
        config
            .app_data(web::Data::new(store.clone()))
            .app_data(
                web::JsonConfig::default()
                    .limit(MAX_JSON_BODY_BYTES)
                    .error_handler(error::json_error),
            )
            .app_data(web::QueryConfig::default().error_handler(error::query_error))
            .service(resource("/healthz").route(web::get().to(healthz)))
            .service(resource("/openapi.json").route(web::get().to(openapi_json)))
            .service(
                web::scope("/api/v1")
                    .service(resource("/auth/login").route(web::post().to(login)))
                    .service(resource("/auth/logout").route(web::post().to(logout)))
                    .service(
                        resource("/sites")
                            .route(web::get().to(list_sites))
                            .route(web::post().to(create_site)),
                    )
                    .service(resource("/users").route(web::post().to(create_user)))
                    .service(
                        resource("/clients")
                            .route(web::get().to(list_clients))
                            .route(web::post().to(create_client)),
                    )
                    .service(
                        resource("/clients/{id}")
                            .route(web::get().to(get_client))
                            .route(web::patch().to(update_client)),
                    )
                    .service(
                        resource("/clients/{id}/transitions")
                            .route(web::get().to(list_transitions))
                            .route(web::post().to(transition_client)),
                    )
                    .service(resource("/audit").route(web::get().to(list_audit)))
                    .configure(appointments::routes)
                    .configure(rostering::routes),
            );
    }
}

/// Logs every request with its status and duration. Bodies, tokens and query values are not
/// logged: they may hold personal data.
async fn log_requests(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let method = request.method().clone();
    let path = request.path().to_owned();
    let started = std::time::Instant::now();
    let response = next.call(request).await?;
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    Ok(response)
}

/// Builds the HTTP server on an already bound listener (port 0 in tests). Run the returned
/// server on an actix system.
pub fn server(store: Store, listener: TcpListener) -> std::io::Result<Server> {
    let routes = configure(store);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::from_fn(log_requests))
            .configure(routes.clone())
            .default_service(web::to(route_not_found))
    })
    .listen(listener)?
    .run();
    Ok(server)
}

/// A server running on its own thread: for tests and embedding. Stops when dropped.
#[derive(Debug)]
pub struct RunningServer {
    address: std::net::SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    /// Starts the API on `listener` (bind port 0 to get a free port) on a new thread.
    pub fn start(store: Store, listener: TcpListener) -> std::io::Result<RunningServer> {
        let address = listener.local_addr()?;
        let server = server(store, listener)?;
        let handle = server.handle();
        let thread = std::thread::Builder::new()
            .name(format!("tend-server-{}", address.port()))
            .spawn(move || actix_web::rt::System::new().block_on(server))?;
        Ok(RunningServer {
            address,
            handle,
            thread: Some(thread),
        })
    }

    pub fn address(&self) -> std::net::SocketAddr {
        self.address
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        // The stop command is sent at once; the returned future only reports completion, which
        // joining the thread waits for.
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the server thread panicked");
            }
        }
    }
}
