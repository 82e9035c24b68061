/* ITU-T G.107 (06/2015) E-model; see emodel.h. Section numbers are G.107's. */
#include "emodel.h"

#include <math.h>
#include <stddef.h>
#include <strings.h>

void emodel_defaults(struct emodel_params *p)
{
    /* Table 3: default values and permitted ranges */
    *p = (struct emodel_params){
        .slr = 8, .rlr = 2, .stmr = 15, .lstr = 18, .ds = 3, .dr = 3, .telr = 65,
        .wepl = 110, .t = 0, .tr = 0, .ta = 0, .qdu = 1, .ie = 0, .bpl = 4.3, .ppl = 0,
        .burst_r = 1, .nc = -70, .nfor = -64, .ps = 35, .pr = 35, .a = 0,
    };
}

static double p10(double x) { return pow(10.0, x); }

double emodel_ie_eff(double ie, double bpl, double ppl_pct, double burst_r)
{
    if (ppl_pct <= 0)
        return ie;
    if (burst_r <= 0)
        burst_r = 1;
    return ie + (95.0 - ie) * ppl_pct / (ppl_pct / burst_r + bpl);
}

double emodel_idd(double ta)
{
    /* §7.4, with the delay-sensitivity defaults mT = 100 ms, sT = 1 */
    if (ta <= 100)
        return 0;
    double x = log10(ta / 100.0) / log10(2.0);
    return 25.0 * (pow(1 + pow(x, 6), 1.0 / 6) - 3 * pow(1 + pow(x / 3, 6), 1.0 / 6) + 2);
}

void emodel_base(const struct emodel_params *p, struct emodel_base *b)
{
    double olr = p->slr + p->rlr;
    /* §7.2 basic signal-to-noise ratio */
    double nos = p->ps - p->slr - p->ds - 100 + 0.004 * pow(p->ps - olr - p->ds - 14, 2);
    double pre = p->pr + 10 * log10(1 + p10((10 - p->lstr) / 10));
    double nor = p->rlr - 121 + pre + 0.008 * pow(pre - 35, 2);
    double nfo = p->nfor + p->rlr;
    b->no = 10 * log10(p10(p->nc / 10) + p10(nos / 10) + p10(nor / 10) + p10(nfo / 10));
    b->ro = 15 - 1.5 * (p->slr + b->no);

    /* §7.3 simultaneous impairment factor: the parts that do not depend on delay */
    double xolr = olr + 0.2 * (64 + b->no - p->rlr);
    b->iolr = 20 * (pow(1 + pow(xolr / 8, 8), 1.0 / 8) - xolr / 8);
    double q = 37 - 15 * log10(p->qdu);
    double g = 1.07 + 0.258 * q + 0.0602 * q * q;
    double y = (b->ro - 100) / 15 + 46 / 8.4 - g / 9;
    double z = 46.0 / 30 - g / 40;
    b->iq = 15 * log10(1 + p10(y) + p10(z));
    b->slr = p->slr, b->rlr = p->rlr, b->ps = p->ps, b->ds = p->ds, b->pr = p->pr;
    b->lstr = p->lstr, b->nfor = p->nfor, b->nc = p->nc, b->qdu = p->qdu;
}

bool emodel_base_fits(const struct emodel_base *b, const struct emodel_params *p)
{
    return b->slr == p->slr && b->rlr == p->rlr && b->ps == p->ps && b->ds == p->ds &&
           b->pr == p->pr && b->lstr == p->lstr && b->nfor == p->nfor && b->nc == p->nc &&
           b->qdu == p->qdu;
}

double emodel_r(const struct emodel_params *p)
{
    struct emodel_base b;
    emodel_base(p, &b);
    return emodel_r_base(p, &b);
}

double emodel_r_base(const struct emodel_params *p, const struct emodel_base *b)
{
    double no = b->no, ro = b->ro, iolr = b->iolr, iq = b->iq;
    double stmro = -10 * log10(p10(-p->stmr / 10) + exp(-p->t / 4) * p10(-p->telr / 10));
    double ist = 12 * pow(1 + pow((stmro - 13) / 6, 8), 1.0 / 8) -
                 28 * pow(1 + pow((stmro + 1) / 19.4, 35), 1.0 / 35) -
                 13 * pow(1 + pow((stmro - 3) / 33, 13), 1.0 / 13) + 29;
    double is = iolr + ist + iq;

    /* §7.4 delay impairment factor */
    double terv = p->telr - 40 * log10((1 + p->t / 10) / (1 + p->t / 150)) +
                  6 * exp(-0.3 * p->t * p->t);
    if (p->stmr < 9) /* the sidetone masks echo less */
        terv += ist / 2;
    double roe = -1.5 * (no - p->rlr);
    double re = 80 + 2.5 * (terv - 14);
    double idte = ((roe - re) / 2 + sqrt(pow(roe - re, 2) / 4 + 100) - 1) * (1 - exp(-p->t));
    if (p->stmr > 20) { /* very high sidetone: §7.4 */
        double idtes = sqrt(idte * idte + ist * ist);
        idte = idtes;
    }
    double rle = 10.5 * (p->wepl + 7) * pow(p->tr + 1, -0.25);
    double idle = (ro - rle) / 2 + sqrt(pow(ro - rle, 2) / 4 + 169);
    double id = idte + idle + emodel_idd(p->ta);

    double ie_eff = emodel_ie_eff(p->ie, p->bpl, p->ppl, p->burst_r);
    return ro - is - id - ie_eff + p->a;
}

double emodel_mos(double r)
{
    if (r <= 0)
        return 1.0;
    if (r >= 100)
        return 4.5;
    return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

/* ITU-T G.113 (11/2007) Appendix I: Ie from Table I.1, Bpl from Table I.3 (random loss).
 * G.711 is taken with PLC (its Appendix I), as every current endpoint conceals loss.
 * Codecs that G.113 rates only on the wideband scale of G.107.1 (G.722) or not at all
 * (iLBC, Opus, AMR, Speex, SILK) are scored with the G.711-with-PLC row, and say so. */
static const struct emodel_codec codecs[] = {
    {"PCMU", 0, 25.1, 0, "G.113 I: G.711 with PLC"},
    {"PCMA", 0, 25.1, 0, "G.113 I: G.711 with PLC"},
    {"G729", 11, 19.0, 5, "G.113 I: G.729A with VAD"},
    {"G723", 15, 16.1, 7.5, "G.113 I: G.723.1 6.3 kbit/s with VAD"},
    {"G722", 0, 25.1, 1.5, "substitute: G.711 with PLC (G.113 rates G.722 only wideband)"},
    {"iLBC", 0, 25.1, 5, "substitute: G.711 with PLC (no G.113 value)"},
    {"opus", 0, 25.1, 6.5, "substitute: G.711 with PLC (no G.113 value)"},
    {"AMR", 5, 10.0, 5, "G.113 I: GSM-EFR (AMR 12.2 is the same codec)"},
    {"AMR-WB", 0, 25.1, 5, "substitute: G.711 with PLC (no narrowband G.113 value)"},
    {"speex", 0, 25.1, 0, "substitute: G.711 with PLC (no G.113 value)"},
    {"SILK", 0, 25.1, 5, "substitute: G.711 with PLC (no G.113 value)"},
};

const struct emodel_codec *emodel_codec(const char *name)
{
    if (!name || !*name)
        return NULL;
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
        if (strcasecmp(name, codecs[i].name) == 0)
            return &codecs[i];
    return NULL;
}
