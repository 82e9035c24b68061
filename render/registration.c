/* See registration.h. */
#include "registration.h"

#include "json.h"

json_t *render_registration_json(const struct registration *r)
{
    char src[IP_ADDR_PORT_STRLEN], reg[IP_ADDR_PORT_STRLEN];
    ip_addr_port_str(&r->source, r->source_port, src, sizeof src);
    ip_addr_port_str(&r->registrar, r->registrar_port, reg, sizeof reg);
    json_t *o = json_object();
    json_object_set_new(o, "aor", render_str_or_null(r->aor));
    json_object_set_new(o, "contact", render_str_or_null(r->contact));
    json_object_set_new(o, "source", json_string(src));
    json_object_set_new(o, "registrar", json_string(reg));
    json_object_set_new(o, "first_time", render_time(true, r->first_time));
    json_object_set_new(o, "last_time", render_time(true, r->last_time));
    json_object_set_new(o, "expires_s",
                        r->expires_s >= 0 ? json_integer(r->expires_s) : json_null());
    json_object_set_new(o, "state", json_string(reg_state_name(r->state)));
    json_object_set_new(o, "final_status",
                        r->final_status ? json_integer(r->final_status) : json_null());
    json_object_set_new(o, "challenges", json_integer(r->challenges));
    json_object_set_new(o, "attempts", json_integer(r->attempts));
    json_object_set_new(o, "call_id", render_str_or_null(r->call_id));
    json_object_set_new(o, "user_agent", render_str_or_null(r->user_agent));
    json_object_set_new(o, "expired", json_boolean(r->expired));
    return o;
}
