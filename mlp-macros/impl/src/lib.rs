//! The parser and code generator behind `mlp_macros::network!`.
//!
//! Use `mlp::network!` (or `mlp_macros::network!`), not this crate: the
//! `macro_rules!` front passes the path of `mlp_macros` (`$crate`) as the
//! first token, and every path of the expansion goes through it, so a
//! user's `mod core {}` or `#![no_implicit_prelude]` cannot break it.
//!
//! The grammar is read token by token, without a parser library. Each
//! mistake becomes a `compile_error!` spanning exactly the tokens that are
//! wrong, in plain words. After a mistake the parser recovers (an unknown
//! activation stands in as `identity`, a missing loss as `mse`) and the
//! network is still generated, so the rest of the user's program
//! type-checks and only the mistake is reported.
//!
//! Generated code is written as small string templates whose tokens get
//! `Span::mixed_site()` (the hygiene of `macro_rules!`: the expansion's
//! local variables cannot clash with the user's); the user's own tokens
//! (names, widths, parameters, the seed expression) are spliced in with
//! their own spans, so errors inside them point at them.

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// Activations: the DSL's name and the engine's type.
const ACTIVATIONS: &[(&str, &str)] = &[
    ("step", "Step"),
    ("identity", "Identity"),
    ("linear", "Identity"),
    ("sigmoid", "Sigmoid"),
    ("tanh", "Tanh"),
    ("relu", "Relu"),
    ("leaky_relu", "LeakyRelu"),
    ("elu", "Elu"),
    ("selu", "Selu"),
    ("softplus", "Softplus"),
    ("softsign", "Softsign"),
    ("swish", "Swish"),
    ("mish", "Mish"),
    ("softmax", "Softmax"),
];
const ACTIVATION_LIST: &str = "step, identity, sigmoid, tanh, relu, leaky_relu, leaky_relu(beta), \
                               elu, elu(alpha), selu, softplus, softsign, swish, mish, softmax";
/// Losses: the DSL's name and the engine's type.
const LOSSES: &[(&str, &str)] = &[
    ("mse", "Mse"),
    ("mae", "Mae"),
    ("huber", "Huber"),
    ("bce", "Bce"),
    ("cross_entropy", "CrossEntropy"),
    ("hinge", "Hinge"),
];
const LOSS_LIST: &str = "mse, mae, huber, huber(d), bce, cross_entropy, hinge";
/// Initialisers: the DSL's name, the engine's `Init` variant, and whether it takes a parameter.
const INITS: &[(&str, &str, bool)] = &[
    ("xavier", "XavierNormal", false),
    ("xavier_normal", "XavierNormal", false),
    ("glorot", "XavierNormal", false),
    ("xavier_uniform", "XavierUniform", false),
    ("he", "HeNormal", false),
    ("he_normal", "HeNormal", false),
    ("he_uniform", "HeUniform", false),
    ("lecun", "LecunNormal", false),
    ("normal", "Normal", true),
    ("uniform", "Uniform", true),
    ("zeros", "Zeros", false),
];
const INIT_LIST: &str =
    "xavier, xavier_uniform, he, he_uniform, lecun, normal(s), uniform(r), zeros";
const ANNOTATIONS: &str = "`code`, `l1(lambda)`, `kl(rho, beta)` or `contractive(lambda)`";
const CLAUSES: &str = "`loss LOSS`, `init INIT`, `seed S` or `dtype f64`";

/// Expands `network!` (see `mlp_macros::network!` for the grammar).
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    let mut tokens = input.into_iter();
    let krate = tokens
        .next()
        .expect("mlp_macros::network! passes `$crate` first");
    let mut parser = Parser::new(tokens.collect());
    let net = parser.network();
    let mut out: TokenStream = parser.errors.iter().map(Error::tokens).collect();
    let Some(net) = net else {
        // Nothing to generate: only the error (and, for the item form, a
        // stand-in type so that uses of the name do not fail as well).
        return match parser.header.name {
            Some(name) => {
                let g = Gen { krate };
                let dummy = g.q(
                    "__0 struct __1; impl __crate::__private::core::default::Default for __1 \
                     { fn default() -> Self { __1 } }",
                    &[&parser.header.vis, &tt(name)],
                );
                out.extend(dummy);
                out
            }
            None => block(out, TokenStream::new()),
        };
    };
    let g = Gen { krate };
    let item = g.network(&net);
    match &net.header.name {
        Some(_) => {
            out.extend(item);
            out
        }
        None => {
            let seed = net.seed.clone().unwrap_or_else(|| g.q("0", &[]));
            let value = g.q("__MlpNetwork::new(__0)", &[&seed]);
            out.extend(item);
            block(out, value)
        }
    }
}

/// `{ items value }`, a block expression.
fn block(items: TokenStream, value: TokenStream) -> TokenStream {
    let mut inner = items;
    inner.extend(value);
    let mut g = Group::new(Delimiter::Brace, inner);
    g.set_span(Span::mixed_site());
    TokenStream::from(TokenTree::Group(g))
}

fn tt(t: impl Into<TokenTree>) -> TokenStream {
    TokenStream::from(t.into())
}

fn stream(tokens: &[TokenTree]) -> TokenStream {
    tokens.iter().cloned().collect()
}

// ===== Errors =====

/// A mistake, spanning the user's tokens `start..=end`.
struct Error {
    start: Span,
    end: Span,
    msg: String,
}

impl Error {
    fn at(t: &TokenTree, msg: impl Into<String>) -> Self {
        Error {
            start: t.span(),
            end: t.span(),
            msg: msg.into(),
        }
    }

    fn over(tokens: &[TokenTree], msg: impl Into<String>) -> Self {
        Error {
            start: tokens.first().map_or_else(Span::call_site, TokenTree::span),
            end: tokens.last().map_or_else(Span::call_site, TokenTree::span),
            msg: msg.into(),
        }
    }

    /// `::core::compile_error!("...");` with the path at `start` and the
    /// parentheses at `end`, so rustc underlines `start..=end`.
    fn tokens(&self) -> TokenStream {
        let (s, e) = (self.start, self.end);
        let punct = |c, spacing| {
            let mut p = Punct::new(c, spacing);
            p.set_span(s);
            TokenTree::Punct(p)
        };
        let mut msg = Literal::string(&self.msg);
        msg.set_span(e);
        let mut args = Group::new(Delimiter::Parenthesis, tt(msg));
        args.set_span(e);
        let mut semi = Punct::new(';', Spacing::Alone);
        semi.set_span(e);
        [
            punct(':', Spacing::Joint),
            punct(':', Spacing::Alone),
            TokenTree::Ident(Ident::new("core", s)),
            punct(':', Spacing::Joint),
            punct(':', Spacing::Alone),
            TokenTree::Ident(Ident::new("compile_error", s)),
            punct('!', Spacing::Alone),
            TokenTree::Group(args),
            TokenTree::Punct(semi),
        ]
        .into_iter()
        .collect()
    }
}

/// The tokens as the user wrote them, for messages: `-4`, `relu(0.1)`.
fn text(tokens: &[TokenTree]) -> String {
    let mut s = String::new();
    let mut word = false;
    for t in tokens {
        let is_word = matches!(t, TokenTree::Ident(_) | TokenTree::Literal(_));
        if word && is_word {
            s.push(' ');
        }
        s.push_str(&t.to_string());
        word = is_word;
    }
    s
}

/// One token as the user wrote it.
fn text1(t: &TokenTree) -> String {
    text(std::slice::from_ref(t))
}

/// A closest known name within two edits, for "did you mean".
fn suggest<'a>(got: &str, known: impl Iterator<Item = &'a str>) -> String {
    fn distance(a: &str, b: &str) -> usize {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for i in 1..=a.len() {
            let mut prev = row[0];
            row[0] = i;
            for j in 1..=b.len() {
                let next = (row[j] + 1)
                    .min(row[j - 1] + 1)
                    .min(prev + usize::from(a[i - 1] != b[j - 1]));
                prev = row[j];
                row[j] = next;
            }
        }
        row[b.len()]
    }
    known
        .map(|k| (distance(got, k), k))
        .filter(|&(d, _)| d <= 2)
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default()
}

// ===== What the user wrote =====

struct Header {
    attrs: TokenStream,
    vis: TokenStream,
    name: Option<Ident>,
}

/// A layer width: a positive integer literal, or a constant.
#[derive(Clone)]
struct Width {
    tokens: TokenStream,
    value: Option<usize>,
}

/// A parameter in parentheses: its tokens, and its value if it is a number.
#[derive(Clone)]
struct Param {
    tokens: Vec<TokenTree>,
    value: Option<f64>,
}

/// A name with optional parameters: `relu`, `leaky_relu(0.1)`, `kl(0.05, 3)`.
struct Named {
    tok: TokenTree,
    name: String,
    group: Option<TokenTree>,
    params: Vec<Param>,
}

impl Named {
    /// The name and its parameters, as tokens (for spans).
    fn tokens(&self) -> Vec<TokenTree> {
        let mut v = vec![self.tok.clone()];
        v.extend(self.group.clone());
        v
    }
}

enum Layer {
    Dense {
        width: Width,
        act: Named,
        code: bool,
        penalty: Option<Named>,
    },
    Dropout {
        p: Param,
    },
    Noise {
        kind: Named,
    },
}

struct Net {
    header: Header,
    input: Width,
    layers: Vec<Layer>,
    loss: Named,
    init: Option<Named>,
    seed: Option<TokenStream>,
    seed_literal: Option<TokenStream>,
    dtype: TokenStream,
}

// ===== The parser =====

struct Parser {
    tokens: Vec<TokenTree>,
    at: usize,
    errors: Vec<Error>,
    header: Header,
}

/// Unwraps the invisible groups a user's macro puts around the fragments
/// it passes (`$w:literal`, `$f:ty`) when they hold one token.
fn flatten(tokens: impl IntoIterator<Item = TokenTree>) -> Vec<TokenTree> {
    let mut out = Vec::new();
    for t in tokens {
        match &t {
            TokenTree::Group(g) if g.delimiter() == Delimiter::None => {
                let inner = flatten(g.stream());
                if inner.len() == 1 {
                    out.extend(inner);
                } else {
                    out.push(t);
                }
            }
            _ => out.push(t),
        }
    }
    out
}

fn is_punct(t: Option<&TokenTree>, c: char) -> bool {
    matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

fn is_ident(t: Option<&TokenTree>, name: &str) -> bool {
    matches!(t, Some(TokenTree::Ident(i)) if i.to_string() == name)
}

fn ident_name(t: Option<&TokenTree>) -> Option<String> {
    match t {
        Some(TokenTree::Ident(i)) => Some(i.to_string()),
        _ => None,
    }
}

/// A numeric literal's text without `_` and without a type suffix.
fn number_text(lit: &Literal) -> Option<String> {
    let s = lit.to_string().replace('_', "");
    if !s.starts_with(|c: char| c.is_ascii_digit()) || s.starts_with("0x") || s.starts_with("0b") {
        return None;
    }
    const SUFFIXES: &[&str] = &[
        "f32", "f64", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64",
        "i128", "isize",
    ];
    let body = SUFFIXES
        .iter()
        .find_map(|suffix| s.strip_suffix(suffix))
        .unwrap_or(&s);
    Some(body.to_string())
}

/// The value of `tokens` if they are a number literal, optionally negated.
fn number(tokens: &[TokenTree]) -> Option<f64> {
    let (sign, lit) = match tokens {
        [TokenTree::Literal(l)] => (1.0, l),
        [TokenTree::Punct(p), TokenTree::Literal(l)] if p.as_char() == '-' => (-1.0, l),
        _ => return None,
    };
    number_text(lit)?.parse::<f64>().ok().map(|v| sign * v)
}

impl Parser {
    fn new(tokens: Vec<TokenTree>) -> Self {
        Parser {
            tokens: flatten(tokens),
            at: 0,
            errors: Vec::new(),
            header: Header {
                attrs: TokenStream::new(),
                vis: TokenStream::new(),
                name: None,
            },
        }
    }

    fn peek(&self) -> Option<&TokenTree> {
        self.tokens.get(self.at)
    }

    fn peek_at(&self, k: usize) -> Option<&TokenTree> {
        self.tokens.get(self.at + k)
    }

    fn bump(&mut self) -> Option<TokenTree> {
        let t = self.tokens.get(self.at).cloned();
        if t.is_some() {
            self.at += 1;
        }
        t
    }

    /// The last token read, for errors about what is missing after it.
    fn last(&self) -> Vec<TokenTree> {
        self.tokens[..self.at].last().cloned().into_iter().collect()
    }

    fn at_arrow(&self) -> bool {
        matches!(self.peek(), Some(TokenTree::Punct(p)) if p.as_char() == '=' && p.spacing() == Spacing::Joint)
            && is_punct(self.peek_at(1), '>')
    }

    fn at_semi(&self) -> bool {
        is_punct(self.peek(), ';')
    }

    fn error(&mut self, e: Error) {
        self.errors.push(e);
    }

    /// Skips to the next `=>` or `;` (or the end), after a mistake.
    fn recover(&mut self) {
        while self.peek().is_some() && !self.at_arrow() && !self.at_semi() {
            self.bump();
        }
    }

    /// The whole declaration; `None` when too little of it could be read
    /// to generate a network.
    fn network(&mut self) -> Option<Net> {
        if self.peek().is_none() {
            let e = "empty network: write e.g. \
                     `network!{ input 2 => dense 4 relu => dense 1 sigmoid; loss bce }`";
            self.error(Error {
                start: Span::call_site(),
                end: Span::call_site(),
                msg: e.into(),
            });
            return None;
        }
        self.header();
        if !is_ident(self.peek(), "input") {
            let found = self.peek().cloned();
            let msg = match &found {
                Some(t) => format!(
                    "expected `input N`, found `{}`: a network starts with its input width, \
                     e.g. `input 2 => dense 4 relu => dense 1 sigmoid; loss bce`",
                    text1(t)
                ),
                None => "expected `input N` after the name".into(),
            };
            let at = found.map(|t| vec![t]).unwrap_or_else(|| self.last());
            self.error(Error::over(&at, msg));
            return None;
        }
        let input_kw = self.bump().expect("peeked");
        let input = self.width(&input_kw, "input")?;
        let layers = self.layers();
        let clauses = self.clauses();
        self.finish(input, layers, clauses)
    }

    /// `[#[attr]...] [pub[(...)]] Name:` before `input`, for the item form.
    fn header(&mut self) {
        let mut attrs = TokenStream::new();
        while is_punct(self.peek(), '#')
            && matches!(self.peek_at(1), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket)
        {
            attrs.extend([self.bump().expect("peeked"), self.bump().expect("peeked")]);
        }
        let mut vis = TokenStream::new();
        if is_ident(self.peek(), "pub") {
            vis.extend(self.bump());
            if matches!(self.peek(), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
            {
                vis.extend(self.bump());
            }
        } else if matches!(self.peek(), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::None)
        {
            // A `$vis:vis` passed by a user's macro.
            vis.extend(self.bump());
        }
        let named = matches!(self.peek(), Some(TokenTree::Ident(_)))
            && is_punct(self.peek_at(1), ':')
            && !is_punct(self.peek_at(2), ':');
        if named {
            if let Some(TokenTree::Ident(name)) = self.bump() {
                self.header.name = Some(name);
            }
            self.bump();
        } else if !attrs.is_empty() || !vis.is_empty() {
            let at: Vec<TokenTree> = self.peek().cloned().into_iter().collect();
            self.error(Error::over(
                &if at.is_empty() { self.last() } else { at },
                "expected `Name:` after the attributes and visibility: \
                 the item form is `pub Name: input N => ...`",
            ));
        }
        self.header.attrs = attrs;
        self.header.vis = vis;
    }

    /// A width after `kw` (`input` or `dense`): a positive integer literal
    /// or a constant. `None` (and an error) if there is none.
    fn width(&mut self, kw: &TokenTree, what: &str) -> Option<Width> {
        let t = match self.peek() {
            Some(t) if !self.at_arrow() && !self.at_semi() => t.clone(),
            _ => {
                let e = format!("expected a width after `{what}`, e.g. `{what} 4`");
                self.error(Error::at(kw, e));
                return None;
            }
        };
        let bad = |tokens: &[TokenTree]| {
            format!("a width must be a positive integer, got `{}`", text(tokens))
        };
        match &t {
            TokenTree::Literal(lit) => {
                self.bump();
                let value = number_text(lit).and_then(|s| s.parse::<usize>().ok());
                match value {
                    Some(0) => {
                        self.error(Error::at(
                            &t,
                            "a layer needs at least one unit: the width after `input` \
                             or `dense` must be 1 or more, got `0`",
                        ));
                        Some(Width {
                            tokens: tt(Literal::usize_unsuffixed(1)),
                            value: Some(1),
                        })
                    }
                    Some(n) => Some(Width {
                        tokens: tt(t),
                        value: Some(n),
                    }),
                    None => {
                        self.error(Error::at(&t, bad(std::slice::from_ref(&t))));
                        Some(Width {
                            tokens: tt(Literal::usize_unsuffixed(1)),
                            value: Some(1),
                        })
                    }
                }
            }
            TokenTree::Punct(p) if p.as_char() == '-' => {
                let mut tokens = vec![self.bump().expect("peeked")];
                if let Some(TokenTree::Literal(_)) = self.peek() {
                    tokens.push(self.bump().expect("peeked"));
                }
                self.error(Error::over(&tokens, bad(&tokens)));
                Some(Width {
                    tokens: tt(Literal::usize_unsuffixed(1)),
                    value: Some(1),
                })
            }
            TokenTree::Ident(i) if ACTIVATIONS.iter().any(|(a, _)| *a == i.to_string()) => {
                let e = format!("expected the layer's width before `{i}`, e.g. `{what} 4 {i}`");
                self.error(Error::at(&t, e));
                Some(Width {
                    tokens: tt(Literal::usize_unsuffixed(1)),
                    value: Some(1),
                })
            }
            // A constant (`N`) or a constant block (`{ N * 2 }`).
            TokenTree::Ident(_) | TokenTree::Group(_) => {
                self.bump();
                Some(Width {
                    tokens: tt(t),
                    value: None,
                })
            }
            TokenTree::Punct(_) => {
                self.bump();
                self.error(Error::at(&t, bad(std::slice::from_ref(&t))));
                Some(Width {
                    tokens: tt(Literal::usize_unsuffixed(1)),
                    value: Some(1),
                })
            }
        }
    }

    /// A name and, if a parenthesised group follows, its parameters.
    fn named(&mut self) -> Option<Named> {
        let tok = self.peek().cloned()?;
        let TokenTree::Ident(ident) = &tok else {
            return None;
        };
        let name = ident.to_string();
        self.bump();
        let (group, params) = match self.peek() {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                let g = g.clone();
                self.bump();
                let params = split_params(g.stream());
                (Some(TokenTree::Group(g)), params)
            }
            _ => (None, Vec::new()),
        };
        Some(Named {
            tok,
            name,
            group,
            params,
        })
    }

    /// `=> LAYER` repeated, up to the first `;` (or the end).
    fn layers(&mut self) -> Vec<Layer> {
        let mut layers = Vec::new();
        loop {
            if self.at_arrow() {
                self.bump();
                let arrow = self.bump().expect("`>` of `=>`");
                if let Some(layer) = self.layer(&arrow) {
                    layers.push(layer);
                }
                continue;
            }
            if self.at_semi() {
                self.bump();
                return layers;
            }
            let Some(t) = self.peek().cloned() else {
                return layers;
            };
            if is_punct(Some(&t), ',') {
                self.error(Error::at(
                    &t,
                    "expected `;` before the clauses, found `,`: layers are joined by `=>`, \
                     and `;` separates them from `loss`, `init`, `seed` and `dtype`",
                ));
                self.bump();
                return layers;
            }
            if let Some(kind @ ("dense" | "dropout" | "noise")) = ident_name(Some(&t)).as_deref() {
                // A forgotten `=>`: say so, and read the layer.
                let e = format!("missing `=>` before `{kind}`: layers are joined by `=>`");
                self.error(Error::at(&t, e));
                if let Some(layer) = self.layer(&t) {
                    layers.push(layer);
                }
                continue;
            }
            let after = match layers.last() {
                Some(Layer::Dense { act, .. }) => format!(" after `{}`", text(&act.tokens())),
                _ => String::new(),
            };
            let e = format!(
                "unexpected `{}`{after}: expected `=>` before the next layer or `;` before \
                 the clauses (a dense layer may be followed by {ANNOTATIONS})",
                text1(&t)
            );
            self.error(Error::at(&t, e));
            self.bump();
            self.recover();
        }
    }

    /// One layer after `=>`.
    fn layer(&mut self, arrow: &TokenTree) -> Option<Layer> {
        let Some(kw) = self.peek().cloned() else {
            self.error(Error::at(
                arrow,
                "expected a layer after `=>`, e.g. `=> dense 4 relu`",
            ));
            return None;
        };
        match ident_name(Some(&kw)).as_deref() {
            Some("dense") => {
                self.bump();
                let width = self.width(&kw, "dense")?;
                self.dense(kw, width)
            }
            Some("dropout") => {
                self.bump();
                let p = self.param_token(&kw, "dropout", "a probability, e.g. `dropout 0.2`")?;
                if let Some(v) = p.value
                    && !(0.0..1.0).contains(&v)
                {
                    let e = format!(
                        "dropout probability must be at least 0 and below 1, got `{}`",
                        text(&p.tokens)
                    );
                    self.error(Error::over(&p.tokens, e));
                }
                Some(Layer::Dropout { p })
            }
            Some("noise") => {
                self.bump();
                self.noise(&kw)
            }
            _ => {
                let name = text1(&kw);
                let e = format!(
                    "unknown layer `{name}`{}: layers are `dense WIDTH ACTIVATION`, \
                     `dropout P` or `noise gaussian(sigma)` / `noise mask(p)`",
                    suggest(&name, ["dense", "dropout", "noise"].into_iter())
                );
                self.error(Error::at(&kw, e));
                self.recover();
                None
            }
        }
    }

    /// `dense WIDTH ACT[(P)] [code] [PENALTY]`, after the width.
    fn dense(&mut self, kw: TokenTree, width: Width) -> Option<Layer> {
        let act = match self.peek() {
            Some(TokenTree::Ident(_)) => self.named().expect("an identifier"),
            _ => {
                let mut at = vec![kw];
                at.extend(self.last());
                self.error(Error::over(
                    &at,
                    "expected an activation after the width, e.g. `dense 4 relu`",
                ));
                self.recover();
                return None;
            }
        };
        self.check_activation(&act);
        let (mut code, mut penalty) = (false, None::<Named>);
        while let Some(name) = ident_name(self.peek()) {
            match name.as_str() {
                "code" => {
                    let t = self.bump().expect("peeked");
                    if code {
                        self.error(Error::at(&t, "this layer is already marked `code`"));
                    }
                    code = true;
                }
                "l1" | "kl" | "contractive" => {
                    let p = self.named().expect("an identifier");
                    if let Some(first) = &penalty {
                        let e = format!(
                            "a layer takes one activity penalty: it already has `{}`",
                            text(&first.tokens())
                        );
                        self.error(Error::over(&p.tokens(), e));
                    } else if self.check_penalty(&p, &act) {
                        penalty = Some(p);
                    }
                }
                _ => break,
            }
        }
        Some(Layer::Dense {
            width,
            act,
            code,
            penalty,
        })
    }

    /// One parameter written after a keyword (`dropout 0.2`): a number,
    /// optionally negative, or a constant.
    fn param_token(&mut self, kw: &TokenTree, what: &str, example: &str) -> Option<Param> {
        let mut tokens = Vec::new();
        if is_punct(self.peek(), '-') {
            tokens.extend(self.bump());
        }
        match self.peek() {
            Some(t) if !self.at_arrow() && !self.at_semi() => tokens.push(t.clone()),
            _ => {
                self.error(Error::at(kw, format!("expected {example} after `{what}`")));
                return None;
            }
        }
        self.bump();
        let value = number(&tokens);
        Some(Param { tokens, value })
    }

    /// `noise gaussian(sigma)` or `noise mask(p)`, after `noise`.
    fn noise(&mut self, kw: &TokenTree) -> Option<Layer> {
        let usage = "`noise gaussian(sigma)` or `noise mask(p)`";
        let Some(kind) = self.named() else {
            self.error(Error::at(kw, format!("expected {usage}")));
            self.recover();
            return None;
        };
        let ok = match kind.name.as_str() {
            "gaussian" | "mask" => self.one_param(&kind, usage),
            other => {
                let e = format!(
                    "unknown corruption `{other}`{}: expected {usage}",
                    suggest(other, ["gaussian", "mask"].into_iter())
                );
                self.error(Error::at(&kind.tok, e));
                false
            }
        };
        if !ok {
            return None;
        }
        let p = &kind.params[0];
        if let Some(v) = p.value {
            let e = match kind.name.as_str() {
                "gaussian" if v < 0.0 => Some("the noise's standard deviation must be at least 0"),
                "mask" if !(0.0..1.0).contains(&v) => {
                    Some("the masking probability must be at least 0 and below 1")
                }
                _ => None,
            };
            if let Some(e) = e {
                let e = format!("{e}, got `{}`", text(&p.tokens));
                self.error(Error::over(&p.tokens, e));
            }
        }
        Some(Layer::Noise { kind })
    }

    /// Whether `n` has exactly one parameter (an error if not).
    fn one_param(&mut self, n: &Named, usage: &str) -> bool {
        if n.params.len() == 1 {
            return true;
        }
        let e = format!("`{}` takes one parameter: {usage}", n.name);
        self.error(Error::over(&n.tokens(), e));
        false
    }

    fn check_activation(&mut self, act: &Named) {
        let known = ACTIVATIONS.iter().any(|(a, _)| *a == act.name);
        if !known {
            let e = format!(
                "unknown activation `{}`{}; expected one of: {ACTIVATION_LIST}",
                act.name,
                suggest(&act.name, ACTIVATIONS.iter().map(|(a, _)| *a))
            );
            self.error(Error::at(&act.tok, e));
            return;
        }
        let takes = matches!(act.name.as_str(), "leaky_relu" | "elu");
        if let Some(group) = &act.group {
            if !takes {
                let e = format!(
                    "the activation `{}` takes no parameter: remove `{}` \
                     (only leaky_relu(beta) and elu(alpha) take one)",
                    act.name,
                    text1(group)
                );
                self.error(Error::at(group, e));
            } else if act.params.len() != 1 {
                let e = format!(
                    "`{}` takes one parameter, e.g. `{}(0.1)`",
                    act.name, act.name
                );
                self.error(Error::over(&act.tokens(), e));
            }
        }
    }

    /// Checks an activity penalty on a layer with activation `act`.
    fn check_penalty(&mut self, p: &Named, act: &Named) -> bool {
        let (count, usage) = match p.name.as_str() {
            "kl" => (
                2,
                "`kl(rho, beta)`: the target mean activation rho and the weight beta",
            ),
            "l1" => (1, "`l1(lambda)`"),
            _ => (1, "`contractive(lambda)`"),
        };
        if p.params.len() != count {
            let e = format!(
                "`{}` takes {count} parameter{}: {usage}",
                p.name,
                if count == 1 { "" } else { "s" }
            );
            self.error(Error::over(&p.tokens(), e));
            return false;
        }
        if p.name != "l1" && act.name != "sigmoid" {
            let why = if p.name == "kl" {
                "the KL penalty compares each unit's mean activation, a probability in (0, 1), \
                 with the target rho"
            } else {
                "its closed form ||dh/dx||^2 = sum_j (h_j (1 - h_j))^2 ||W_j||^2 is the sigmoid's"
            };
            let e = format!(
                "`{}` needs a `sigmoid` layer, not `{}`: {why}",
                p.name, act.name
            );
            self.error(Error::at(&p.tok, e));
            return false;
        }
        let mut ok = true;
        for (k, param) in p.params.iter().enumerate() {
            let Some(v) = param.value else { continue };
            let bad = if p.name == "kl" && k == 0 {
                (!(v > 0.0 && v < 1.0))
                    .then_some("the sparsity target rho must be above 0 and below 1")
            } else {
                (v < 0.0).then_some("a penalty's weight must be at least 0")
            };
            if let Some(bad) = bad {
                let e = format!("{bad}, got `{}`", text(&param.tokens));
                self.error(Error::over(&param.tokens, e));
                ok = false;
            }
        }
        ok
    }

    /// The clauses after the layers, separated by `;`.
    fn clauses(&mut self) -> Clauses {
        let mut c = Clauses::default();
        loop {
            if self.at_semi() {
                self.bump();
                continue;
            }
            let Some(kw) = self.peek().cloned() else {
                return c;
            };
            let start = self.at;
            let name = ident_name(Some(&kw));
            match name.as_deref() {
                Some("loss") | Some("init") => {
                    self.bump();
                    let what = name.as_deref().expect("matched");
                    let Some(n) = self.named() else {
                        let e = if what == "loss" {
                            format!("expected a loss after `loss`: one of {LOSS_LIST}")
                        } else {
                            format!("expected an initialiser after `init`: one of {INIT_LIST}")
                        };
                        self.error(Error::at(&kw, e));
                        self.recover();
                        continue;
                    };
                    let slot = if what == "loss" {
                        &mut c.loss
                    } else {
                        &mut c.init
                    };
                    if let Some(first) = slot {
                        let first = text(&first.tokens());
                        let clause = self.tokens[start..self.at].to_vec();
                        self.error(Error::over(
                            &clause,
                            format!(
                                "`{what}` is given twice: a network has one {} (the first is `{what} {first}`)",
                                if what == "loss" { "loss" } else { "initialiser" }
                            ),
                        ));
                    } else {
                        *slot = Some(n);
                    }
                }
                Some("seed") => {
                    self.bump();
                    let mut expr = Vec::new();
                    while self.peek().is_some() && !self.at_semi() {
                        expr.push(self.bump().expect("peeked"));
                    }
                    if expr.is_empty() {
                        self.error(Error::at(
                            &kw,
                            "expected a seed after `seed`: an integer, or any expression of type `u64`",
                        ));
                    } else if c.seed.is_some() {
                        let clause = self.tokens[start..self.at].to_vec();
                        self.error(Error::over(
                            &clause,
                            "`seed` is given twice: a network has one seed",
                        ));
                    } else {
                        c.seed_literal = matches!(expr.as_slice(), [TokenTree::Literal(_)])
                            .then(|| stream(&expr));
                        c.seed = Some(stream(&expr));
                    }
                    continue;
                }
                Some("dtype") => {
                    self.bump();
                    let Some(t) = self.peek().cloned().filter(|_| !self.at_semi()) else {
                        self.error(Error::at(&kw, "expected `f32` or `f64` after `dtype`"));
                        continue;
                    };
                    self.bump();
                    let ok = match &t {
                        TokenTree::Ident(i) => matches!(i.to_string().as_str(), "f32" | "f64"),
                        // A type passed by a user's macro (`$f:ty`): the
                        // engine's `Float` bound accepts only f32 and f64.
                        TokenTree::Group(g) => g.delimiter() == Delimiter::None,
                        _ => false,
                    };
                    if !ok {
                        let e = format!(
                            "unknown dtype `{}`: networks compute in `f32` (the default) or `f64`",
                            text1(&t)
                        );
                        self.error(Error::at(&t, e));
                    } else if c.dtype.is_some() {
                        let clause = self.tokens[start..self.at].to_vec();
                        self.error(Error::over(
                            &clause,
                            "`dtype` is given twice: a network has one dtype",
                        ));
                    } else {
                        c.dtype = Some(tt(t));
                    }
                }
                _ => {
                    let e = if self.at_arrow() {
                        "unexpected `=>` after the clauses: every layer comes before the first `;`"
                            .to_string()
                    } else {
                        format!(
                            "unexpected `{}`: not a clause of `network!`; after the layers, expected {CLAUSES}",
                            text1(&kw)
                        )
                    };
                    self.error(Error::at(&kw, e));
                    self.bump();
                    while self.peek().is_some() && !self.at_semi() {
                        self.bump();
                    }
                    continue;
                }
            }
            // After `loss X`, `init X` and `dtype X` comes `;` or the end.
            if let Some(t) = self.peek().cloned()
                && !self.at_semi()
            {
                let clause = text(&self.tokens[start..self.at]);
                if is_punct(Some(&t), ',') {
                    self.error(Error::at(
                        &t,
                        format!("clauses are separated by `;`, not `,` (after `{clause}`)"),
                    ));
                    self.bump();
                } else {
                    let e = format!(
                        "unexpected `{}` after `{clause}`: clauses are separated by `;`",
                        text1(&t)
                    );
                    self.error(Error::at(&t, e));
                    while self.peek().is_some() && !self.at_semi() {
                        self.bump();
                    }
                }
            }
        }
    }

    /// Checks what spans the whole declaration, and assembles it.
    fn finish(&mut self, input: Width, mut layers: Vec<Layer>, c: Clauses) -> Option<Net> {
        let header = Header {
            attrs: std::mem::take(&mut self.header.attrs),
            vis: self.header.vis.clone(),
            name: self.header.name.clone(),
        };
        let Some(last) = layers.last() else {
            if self.errors.is_empty() {
                let at = self.last();
                self.error(Error::over(
                    &at,
                    "a network needs at least one layer: write `input N => dense M ACTIVATION` before `;`",
                ));
            }
            return None;
        };
        let Layer::Dense { act: out_act, .. } = last else {
            // `=> dropout P` or `=> noise ...` last.
            let kw = match last {
                Layer::Dropout { .. } => "dropout",
                _ => "noise",
            };
            let at = self
                .tokens
                .iter()
                .rev()
                .find(|t| is_ident(Some(t), kw))
                .cloned();
            let e = format!(
                "the last layer must be `dense`, not `{kw}`: {kw} goes between dense layers, \
                 e.g. `input 4 => dense 8 relu => {kw} ... => dense 1 sigmoid`"
            );
            self.error(Error::over(&at.into_iter().collect::<Vec<_>>(), e));
            return None;
        };
        let out_act_name = out_act.name.clone();
        // The output layer cannot be the code or carry a penalty.
        if let Some(Layer::Dense { code, penalty, .. }) = layers.last_mut() {
            if let Some(p) = penalty.take() {
                self.error(Error::over(
                    &p.tokens(),
                    format!(
                        "`{}` is an activity penalty for a hidden layer, not the output layer: \
                         the output's error is the loss itself",
                        p.name
                    ),
                ));
            }
            if *code {
                let at = self
                    .tokens
                    .iter()
                    .rev()
                    .find(|t| is_ident(Some(t), "code"))
                    .cloned();
                self.error(Error::over(
                    &at.into_iter().collect::<Vec<_>>(),
                    "`code` marks a hidden layer (the bottleneck an autoencoder encodes to), \
                     not the output layer",
                ));
                *code = false;
            }
        }
        let codes = layers
            .iter()
            .filter(|l| matches!(l, Layer::Dense { code: true, .. }))
            .count();
        if codes > 1 {
            let at: Vec<TokenTree> = self
                .tokens
                .iter()
                .filter(|t| is_ident(Some(t), "code"))
                .nth(1)
                .cloned()
                .into_iter()
                .collect();
            self.error(Error::over(&at, "only one layer can be the `code`"));
        }
        let loss = match c.loss {
            Some(loss) => {
                let ok = self.check_loss(&loss, &out_act_name);
                if ok { loss } else { stand_in("mse") }
            }
            None => {
                let at = self.last();
                self.error(Error::over(
                    &at,
                    format!("missing `; loss LOSS` after the layers: every network needs a loss ({LOSS_LIST})"),
                ));
                stand_in("mse")
            }
        };
        let init = match c.init {
            Some(init) if self.check_init(&init) => Some(init),
            _ => None,
        };
        Some(Net {
            header,
            input,
            layers,
            loss,
            init,
            seed: c.seed,
            seed_literal: c.seed_literal,
            dtype: c
                .dtype
                .unwrap_or_else(|| tt(Ident::new("f32", Span::mixed_site()))),
        })
    }

    /// Checks the loss's name, parameters and pairing with the output.
    fn check_loss(&mut self, loss: &Named, out_act: &str) -> bool {
        if !LOSSES.iter().any(|(l, _)| *l == loss.name) {
            let e = format!(
                "unknown loss `{}`{}; expected one of: {LOSS_LIST}",
                loss.name,
                suggest(&loss.name, LOSSES.iter().map(|(l, _)| *l))
            );
            self.error(Error::at(&loss.tok, e));
            return false;
        }
        if let Some(group) = &loss.group
            && (loss.name != "huber" || loss.params.len() != 1)
        {
            let e = if loss.name == "huber" {
                "`huber` takes one parameter, the threshold d: `huber(1.0)`".to_string()
            } else {
                format!(
                    "the loss `{}` takes no parameter: remove `{}`",
                    loss.name,
                    text1(group)
                )
            };
            self.error(Error::over(&loss.tokens(), e));
            return false;
        }
        let needs = match loss.name.as_str() {
            "bce" => Some("sigmoid"),
            "cross_entropy" => Some("softmax"),
            _ => None,
        };
        let known = ACTIVATIONS.iter().any(|(a, _)| *a == out_act);
        if let Some(needs) = needs
            && known
            && out_act != needs
        {
            let e = format!(
                "loss `{}` cannot follow a `{out_act}` output layer: `bce` needs a `sigmoid` output \
                 and `cross_entropy` a `softmax` output; only with that pairing is the output error \
                 the exact, numerically stable `delta = y_hat - y` (for other outputs use `mse`)",
                loss.name
            );
            self.error(Error::at(&loss.tok, e));
            return false;
        }
        true
    }

    fn check_init(&mut self, init: &Named) -> bool {
        let Some(&(_, _, takes)) = INITS.iter().find(|(i, _, _)| *i == init.name) else {
            let e = format!(
                "unknown initialiser `{}`{}; expected one of: {INIT_LIST}",
                init.name,
                suggest(&init.name, INITS.iter().map(|(i, _, _)| *i))
            );
            self.error(Error::at(&init.tok, e));
            return false;
        };
        if takes && init.params.len() != 1 {
            let e = format!("`{}` takes one parameter: `{}(0.1)`", init.name, init.name);
            self.error(Error::over(&init.tokens(), e));
            return false;
        }
        if !takes && let Some(group) = &init.group {
            let e = format!(
                "the initialiser `{}` takes no parameter: remove `{}`",
                init.name,
                text1(group)
            );
            self.error(Error::at(group, e));
            return false;
        }
        true
    }
}

#[derive(Default)]
struct Clauses {
    loss: Option<Named>,
    init: Option<Named>,
    seed: Option<TokenStream>,
    seed_literal: Option<TokenStream>,
    dtype: Option<TokenStream>,
}

/// A name standing in for one that was wrong, so generation goes on.
fn stand_in(name: &str) -> Named {
    Named {
        tok: TokenTree::Ident(Ident::new(name, Span::mixed_site())),
        name: name.into(),
        group: None,
        params: Vec::new(),
    }
}

/// The comma-separated parameters of a parenthesised group.
fn split_params(ts: TokenStream) -> Vec<Param> {
    let mut params = Vec::new();
    let mut cur = Vec::new();
    for t in flatten(ts) {
        if is_punct(Some(&t), ',') {
            params.push(std::mem::take(&mut cur));
        } else {
            cur.push(t);
        }
    }
    if !cur.is_empty() {
        params.push(cur);
    }
    params
        .into_iter()
        .map(|tokens| {
            let value = number(&tokens);
            Param { tokens, value }
        })
        .collect()
}

// ===== Code generation =====

struct Gen {
    /// `$crate` of `mlp_macros`, as the front passed it.
    krate: TokenTree,
}

impl Gen {
    /// Parses `src`, gives its tokens the expansion's hygiene, and puts
    /// `args[k]` where `__k` stands and `$crate` where `__crate` stands.
    fn q(&self, src: &str, args: &[&TokenStream]) -> TokenStream {
        let ts: TokenStream = src.parse().expect("a valid template");
        self.fill(ts, args)
    }

    fn fill(&self, ts: TokenStream, args: &[&TokenStream]) -> TokenStream {
        let mut out = TokenStream::new();
        for t in ts {
            match t {
                TokenTree::Ident(mut i) => {
                    let s = i.to_string();
                    if s == "__crate" {
                        out.extend(tt(self.krate.clone()));
                    } else if let Some(k) =
                        s.strip_prefix("__").and_then(|d| d.parse::<usize>().ok())
                    {
                        out.extend(args[k].clone());
                    } else {
                        i.set_span(Span::mixed_site());
                        out.extend(tt(i));
                    }
                }
                TokenTree::Group(g) => {
                    let mut n = Group::new(g.delimiter(), self.fill(g.stream(), args));
                    n.set_span(Span::mixed_site());
                    out.extend(tt(n));
                }
                TokenTree::Punct(mut p) => {
                    p.set_span(Span::mixed_site());
                    out.extend(tt(p));
                }
                TokenTree::Literal(mut l) => {
                    l.set_span(Span::mixed_site());
                    out.extend(tt(l));
                }
            }
        }
        out
    }

    /// `__crate::__private::mlp_core::NAME`.
    fn core(&self, name: &str) -> TokenStream {
        self.q(&format!("__crate::__private::mlp_core::{name}"), &[])
    }

    /// A float parameter: a number literal as an `f64` literal (so `3`
    /// works where `3.0` is meant), anything else converted with `as f64`.
    fn float(&self, p: &Param) -> TokenStream {
        match p.value {
            Some(v) => {
                let mut lit = Literal::f64_unsuffixed(v);
                lit.set_span(
                    p.tokens
                        .last()
                        .map_or_else(Span::mixed_site, TokenTree::span),
                );
                tt(lit)
            }
            None => self.q("((__0) as f64)", &[&stream(&p.tokens)]),
        }
    }

    fn act_ty(&self, act: &Named) -> TokenStream {
        let ty = ACTIVATIONS
            .iter()
            .find(|(a, _)| *a == act.name)
            .map_or("Identity", |(_, t)| t);
        self.core(ty)
    }

    fn act_new(&self, act: &Named) -> TokenStream {
        let ty = self.act_ty(act);
        match (act.name.as_str(), act.params.as_slice()) {
            ("leaky_relu" | "elu", [p]) => self.q("__0::new(__1)", &[&ty, &self.float(p)]),
            _ => self.q(
                "<__0 as __crate::__private::core::default::Default>::default()",
                &[&ty],
            ),
        }
    }

    fn loss_ty(&self, loss: &Named) -> TokenStream {
        let ty = LOSSES
            .iter()
            .find(|(l, _)| *l == loss.name)
            .map_or("Mse", |(_, t)| t);
        self.core(ty)
    }

    fn loss_new(&self, loss: &Named) -> TokenStream {
        let ty = self.loss_ty(loss);
        match (loss.name.as_str(), loss.params.as_slice()) {
            ("huber", [d]) => self.q("__0::new(__1)", &[&ty, &self.float(d)]),
            ("huber", _) => self.q("__0::new(1.0)", &[&ty]),
            _ => ty,
        }
    }

    fn init(&self, init: Option<&Named>) -> TokenStream {
        let Some(init) = init else {
            return self.core("Init::XavierUniform");
        };
        let (_, variant, takes) = INITS
            .iter()
            .find(|(i, _, _)| *i == init.name)
            .expect("checked");
        let path = self.core(&format!("Init::{variant}"));
        if *takes {
            self.q("__0(__1)", &[&path, &self.float(&init.params[0])])
        } else {
            path
        }
    }

    /// The type of hidden layer `layer`, whose input width is `w_in`.
    fn layer_ty(&self, layer: &Layer, w_in: &Width, f: &TokenStream) -> TokenStream {
        match layer {
            Layer::Dense { width, act, .. } => self.q(
                "__crate::__private::mlp_core::Dense<__0, __1, __2, __3>",
                &[&w_in.tokens, &width.tokens, &self.act_ty(act), f],
            ),
            Layer::Dropout { .. } => self.q(
                "__crate::__private::mlp_core::Dropout<__0, __1>",
                &[&w_in.tokens, f],
            ),
            Layer::Noise { .. } => self.q(
                "__crate::__private::mlp_core::Noise<__0, __1>",
                &[&w_in.tokens, f],
            ),
        }
    }

    /// The expression that builds hidden layer `layer` from `init` and `rng`.
    fn layer_new(&self, layer: &Layer, w_in: &Width, f: &TokenStream) -> TokenStream {
        let unwrap = |value: TokenStream| {
            // Unreachable: the parameter was checked at compile time.
            self.q(
                "match __0 { __crate::__private::core::result::Result::Ok(layer) => layer, \
                 __crate::__private::core::result::Result::Err(_) => __crate::__private::core::unreachable!() }",
                &[&value],
            )
        };
        match layer {
            Layer::Dense {
                width,
                act,
                penalty,
                ..
            } => {
                let penalty = match penalty {
                    None => TokenStream::new(),
                    Some(p) => {
                        let args: Vec<TokenStream> =
                            p.params.iter().map(|p| self.float(p)).collect();
                        match p.name.as_str() {
                            "l1" => self.q(".activity_l1(__0)", &[&args[0]]),
                            "kl" => self.q(".sparse_kl(__0, __1)", &[&args[0], &args[1]]),
                            _ => self.q(".contractive(__0)", &[&args[0]]),
                        }
                    }
                };
                self.q(
                    "__crate::__private::mlp_core::Dense::<__0, __1, _, __2>::new(__3, init, &mut rng)__4",
                    &[&w_in.tokens, &width.tokens, f, &self.act_new(act), &penalty],
                )
            }
            Layer::Dropout { p } => unwrap(self.q(
                "__crate::__private::mlp_core::Dropout::<__0, __1>::new(__2)",
                &[&w_in.tokens, f, &self.float(p)],
            )),
            Layer::Noise { kind } => {
                let variant = if kind.name == "gaussian" {
                    "Gaussian"
                } else {
                    "Mask"
                };
                unwrap(self.q(
                    &format!(
                        "__crate::__private::mlp_core::Noise::<__0, __1>::new(\
                         __crate::__private::mlp_core::Corruption::{variant}(__2))"
                    ),
                    &[&w_in.tokens, f, &self.float(&kind.params[0])],
                ))
            }
        }
    }

    /// Compile-time checks of parameters given as constants, whose values
    /// the parser could not see.
    fn const_checks(&self, layers: &[Layer]) -> TokenStream {
        let mut out = TokenStream::new();
        for layer in layers {
            let (p, check, what) = match layer {
                Layer::Dropout { p } if p.value.is_none() => (
                    p,
                    "__0 >= 0.0 && __0 < 1.0",
                    "dropout probability must be at least 0 and below 1",
                ),
                Layer::Noise { kind } if kind.params[0].value.is_none() => {
                    if kind.name == "gaussian" {
                        (
                            &kind.params[0],
                            "__0 >= 0.0",
                            "the noise's standard deviation must be at least 0",
                        )
                    } else {
                        (
                            &kind.params[0],
                            "__0 >= 0.0 && __0 < 1.0",
                            "the masking probability must be at least 0 and below 1",
                        )
                    }
                }
                _ => continue,
            };
            let value = self.float(p);
            let cond = self.q(check, &[&value]);
            let msg = tt(Literal::string(what));
            out.extend(self.q(
                "const _: () = __crate::__private::core::assert!(__0, __1);",
                &[&cond, &msg],
            ));
        }
        out
    }

    fn network(&self, net: &Net) -> TokenStream {
        let f = &net.dtype;
        let (hidden, output) = net.layers.split_at(net.layers.len() - 1);
        let Layer::Dense {
            width: out_width,
            act: out_act,
            ..
        } = &output[0]
        else {
            unreachable!("the parser ends with a dense layer")
        };
        // Each hidden layer with its input width.
        let mut ins = Vec::new();
        let mut w = net.input.clone();
        for layer in hidden {
            ins.push(w.clone());
            if let Layer::Dense { width, .. } = layer {
                w = width.clone();
            }
        }
        let top = w; // the output layer's input width
        let (hidden_ty, hidden_new) = match hidden.first() {
            None => (
                self.q(
                    "__crate::__private::mlp_core::Input<__0>",
                    &[&net.input.tokens],
                ),
                self.q(
                    "__crate::__private::mlp_core::Input::<__0>",
                    &[&net.input.tokens],
                ),
            ),
            Some(first) => {
                let mut ty = self.layer_ty(first, &ins[0], f);
                let mut new = self.layer_new(first, &ins[0], f);
                for (layer, w_in) in hidden.iter().zip(&ins).skip(1) {
                    ty = self.q(
                        "__crate::__private::mlp_core::Chain<__0, __1>",
                        &[&ty, &self.layer_ty(layer, w_in, f)],
                    );
                    new = self.q(
                        "{ let head = __0; __crate::__private::mlp_core::Chain { head, tail: __1 } }",
                        &[&new, &self.layer_new(layer, w_in, f)],
                    );
                }
                (ty, new)
            }
        };
        let net_ty = self.q(
            "__crate::__private::mlp_core::Network<__0, __crate::__private::mlp_core::Dense<__1, __2, __3, __4>, __5, __4>",
            &[&hidden_ty, &top.tokens, &out_width.tokens, &self.act_ty(out_act), f, &self.loss_ty(&net.loss)],
        );
        let mut params = self.q("0", &[]);
        let mut w = &net.input;
        for layer in &net.layers {
            if let Layer::Dense { width, .. } = layer {
                params = self.q(
                    "__0 + (__1 * __2 + __2)",
                    &[&params, &w.tokens, &width.tokens],
                );
                w = width;
            }
        }
        let name = match &net.header.name {
            Some(n) => tt(n.clone()),
            None => tt(Ident::new("__MlpNetwork", Span::mixed_site())),
        };
        let seed = match (&net.header.name, &net.seed, &net.seed_literal) {
            (_, None, _) => self.q("0", &[]),
            (Some(_), Some(s), _) => s.clone(),
            (None, _, Some(lit)) => lit.clone(),
            // An expression's seed is computed where the network is built.
            (None, Some(_), None) => self.q("0", &[]),
        };
        let n_in = &net.input.tokens;
        let n_out = &out_width.tokens;

        self.q(
            r#"
            __0
            __1 struct __2 {
                net: __3,
            }

            #[allow(dead_code)]
            impl __2 {
                /// Inputs per sample.
                pub const INPUTS: usize = __4;
                /// Outputs per sample.
                pub const OUTPUTS: usize = __5;
                /// Trainable parameters (weights and biases), computed at compile time.
                pub const PARAMS: usize = __6;
                /// The seed declared with `seed S` (0 if none, or if it is computed at run time), used by `Default`.
                pub const SEED: u64 = __7;

                /// Builds the network with weights drawn from `seed`.
                pub fn new(seed: u64) -> Self {
                    Self::with_rng(__crate::__private::mlp_core::rng(seed))
                }

                /// Builds the network drawing weights from `rng`, which then
                /// drives shuffling, dropout and noise.
                pub fn with_rng(mut rng: __crate::__private::mlp_core::Rng) -> Self {
                    let init = __8;
                    let hidden = __9;
                    // The output layer starts at zero weights (see the grammar).
                    let output = __crate::__private::mlp_core::Dense::<__10, __5, _, __11>::new(
                        __12,
                        __crate::__private::mlp_core::Init::Zeros,
                        &mut rng,
                    );
                    let loss = __13;
                    __2 { net: __crate::__private::mlp_core::Network::__from_dsl(hidden, output, loss, rng) }
                }

                /// Runs one sample; the widths are checked by the compiler.
                pub fn predict(&self, x: &[__11; __4]) -> [__11; __5] {
                    self.net.predict(x)
                }

                /// The underlying `Network`.
                pub fn into_inner(self) -> __3 {
                    self.net
                }

                __14
            }

            impl __crate::__private::core::ops::Deref for __2 {
                type Target = __3;
                fn deref(&self) -> &Self::Target {
                    &self.net
                }
            }

            impl __crate::__private::core::ops::DerefMut for __2 {
                fn deref_mut(&mut self) -> &mut Self::Target {
                    &mut self.net
                }
            }

            impl __crate::__private::core::default::Default for __2 {
                fn default() -> Self {
                    Self::new(Self::SEED)
                }
            }

            impl __crate::__private::core::clone::Clone for __2 {
                fn clone(&self) -> Self {
                    __2 { net: __crate::__private::core::clone::Clone::clone(&self.net) }
                }
            }

            impl __crate::__private::core::fmt::Debug for __2 {
                fn fmt(&self, f: &mut __crate::__private::core::fmt::Formatter<'_>) -> __crate::__private::core::fmt::Result {
                    __crate::__private::core::fmt::Debug::fmt(&self.net, f)
                }
            }

            __15
            __16
            "#,
            &[
                &net.header.attrs,
                &net.header.vis,
                &name,
                &net_ty,
                n_in,
                n_out,
                &params,
                &seed,
                &self.init(net.init.as_ref()),
                &hidden_new,
                &top.tokens,
                f,
                &self.act_new(out_act),
                &self.loss_new(&net.loss),
                &self.encode(net, hidden),
                &self.model(net, &name),
                &self.const_checks(&net.layers),
            ],
        )
    }

    /// `CODE`, `encode` and `encode_batch`, when the network has a code
    /// layer: the one marked `code`, else the narrowest hidden dense layer
    /// (the first on a tie) when every hidden width is a literal.
    fn encode(&self, net: &Net, hidden: &[Layer]) -> TokenStream {
        let dense: Vec<(usize, &Width)> = hidden
            .iter()
            .enumerate()
            .filter_map(|(k, l)| match l {
                Layer::Dense { width, .. } => Some((k, width)),
                _ => None,
            })
            .collect();
        let marked = hidden
            .iter()
            .position(|l| matches!(l, Layer::Dense { code: true, .. }));
        let at = match marked {
            Some(k) => Some(k),
            None if dense.iter().all(|(_, w)| w.value.is_some()) => dense
                .iter()
                .min_by_key(|(k, w)| (w.value, *k))
                .map(|(k, _)| *k),
            None => None,
        };
        let Some(k) = at else {
            return TokenStream::new();
        };
        let Layer::Dense { width, .. } = &hidden[k] else {
            unreachable!("the code is a dense layer")
        };
        // The layers up to the code are `hidden.head` applied once per layer after it.
        let prefix = if k + 1 == hidden.len() {
            self.q("self.net.hidden()", &[])
        } else {
            self.q(
                &format!("&self.net.hidden(){}", ".head".repeat(hidden.len() - 1 - k)),
                &[],
            )
        };
        let how = if marked.is_some() {
            "the layer marked `code`"
        } else {
            "the narrowest hidden layer"
        };
        self.q(
            &format!(
                r#"
            /// Width of the code: the output of {how}.
            pub const CODE: usize = __0;

            /// The code of one sample: the output of {how}, with
            /// dropout and noise off.
            pub fn encode(&self, x: &[__1; __2]) -> [__1; __0] {{
                __crate::__private::mlp_core::Layer::<__1>::infer(__3, x)
            }}

            /// The codes of a batch, one sample per row (see `encode`).
            ///
            /// # Errors
            /// A wrong number of columns, or a NaN or infinite input.
            pub fn encode_batch(
                &self,
                x: __crate::__private::mlp_core::ndarray::ArrayView2<'_, __1>,
            ) -> __crate::__private::mlp_core::Result<__crate::__private::mlp_core::ndarray::Array2<__1>> {{
                __crate::__private::mlp_core::Layer::<__1>::infer_rows(__3, x)
            }}
            "#
            ),
            &[&width.tokens, &net.dtype, &net.input.tokens, &prefix],
        )
    }

    /// `impl Model`, for every network that can be trained (none with `step`).
    fn model(&self, net: &Net, name: &TokenStream) -> TokenStream {
        let has_step = net
            .layers
            .iter()
            .any(|l| matches!(l, Layer::Dense { act, .. } if act.name == "step"));
        if has_step {
            return TokenStream::new();
        }
        let Some(Layer::Dense { width: out, .. }) = net.layers.last() else {
            return TokenStream::new();
        };
        self.q(
            r#"
            impl __crate::__private::mlp_core::Model for __0 {
                type Float = __1;
                type Input = [__1; __2];
                type Output = [__1; __3];
                const INPUTS: usize = __2;
                const OUTPUTS: usize = __3;
                const PARAMS: usize = __0::PARAMS;

                fn predict(&self, x: &[__1; __2]) -> [__1; __3] {
                    self.net.predict(x)
                }
                fn predict_batch(
                    &self,
                    x: __crate::__private::mlp_core::ndarray::ArrayView2<'_, __1>,
                ) -> __crate::__private::mlp_core::Result<__crate::__private::mlp_core::ndarray::Array2<__1>> {
                    self.net.predict_batch(x)
                }
                fn evaluate(
                    &self,
                    x: __crate::__private::mlp_core::ndarray::ArrayView2<'_, __1>,
                    y: __crate::__private::mlp_core::ndarray::ArrayView2<'_, __1>,
                ) -> __crate::__private::mlp_core::Result<f64> {
                    self.net.evaluate(x, y)
                }
                fn fit(
                    &mut self,
                    x: __crate::__private::mlp_core::ndarray::ArrayView2<'_, __1>,
                    y: __crate::__private::mlp_core::ndarray::ArrayView2<'_, __1>,
                    cfg: &__crate::__private::mlp_core::TrainConfig,
                ) -> __crate::__private::mlp_core::Result<__crate::__private::mlp_core::History> {
                    self.net.fit(x, y, cfg)
                }
                fn summary(&self) -> __crate::__private::mlp_core::__std::string::String {
                    self.net.summary()
                }
                fn save(
                    &self,
                    path: impl __crate::__private::core::convert::AsRef<__crate::__private::mlp_core::__std::path::Path>,
                ) -> __crate::__private::mlp_core::Result<()> {
                    self.net.save(path)
                }
                fn load(
                    &mut self,
                    path: impl __crate::__private::core::convert::AsRef<__crate::__private::mlp_core::__std::path::Path>,
                ) -> __crate::__private::mlp_core::Result<()> {
                    self.net.load(path)
                }
            }
            "#,
            &[name, &net.dtype, &net.input.tokens, &out.tokens],
        )
    }
}
