//! The transform operator `| location | update [, delete] |`: a function that copies its
//! argument with every object the location selects merged with the update object and
//! stripped of the deleted keys. Values are shared (`Rc`), so "copying" rebuilds only the
//! objects on the way to a match; matches are recognised by identity.

use std::rc::Rc;

use crate::ast::Transform;
use crate::eval::{err, Ev, R};
use crate::func::Frame;
use crate::value::{stringify, Val};

pub fn apply(ev: &Ev, def: &Transform, target: Option<Val>, env: &Rc<Frame>) -> R {
    let Some(target) = target else { return Ok(None) };
    let matches = ev.eval(&def.location, &Some(target.clone()), env)?;
    let matched: Vec<Rc<crate::value::Obj>> = match matches {
        None => return Ok(Some(target)),
        Some(v) => v.items().into_iter().filter_map(|m| if let Val::Obj(o) = m { Some(o) } else { None }).collect(),
    };
    if matched.is_empty() {
        return Ok(Some(target));
    }
    Ok(Some(rebuild(ev, def, &target, &matched, env)?))
}

fn rebuild(ev: &Ev, def: &Transform, v: &Val, matched: &[Rc<crate::value::Obj>], env: &Rc<Frame>) -> Result<Val, crate::JsonataError> {
    match v {
        Val::Arr(a, f) => {
            let mut out = Vec::with_capacity(a.len());
            for x in a.iter() {
                out.push(rebuild(ev, def, x, matched, env)?);
            }
            Ok(Val::Arr(Rc::new(out), *f))
        }
        Val::Obj(o) => {
            let mut obj = (**o).clone();
            if matched.iter().any(|m| Rc::ptr_eq(m, o)) {
                let ctx = Some(v.clone());
                match ev.eval(&def.update, &ctx, env)? {
                    None => {}
                    Some(Val::Obj(u)) => {
                        for (k, x) in u.iter() {
                            obj.insert(k.clone(), x.clone());
                        }
                    }
                    Some(other) => {
                        return Err(err(
                            "T2011",
                            def.update.pos,
                            format!("The insert/update clause of the transform expression must evaluate to an object: {}", stringify(&other, false)),
                        ))
                    }
                }
                if let Some(d) = &def.delete {
                    if let Some(del) = ev.eval(d, &ctx, env)? {
                        for key in del.items() {
                            match key {
                                Val::Str(k) => {
                                    obj.shift_remove(&*k);
                                }
                                _ => {
                                    return Err(err(
                                        "T2012",
                                        d.pos,
                                        format!(
                                            "The delete clause of the transform expression must evaluate to a string or array of strings: {}",
                                            stringify(&del, false)
                                        ),
                                    ))
                                }
                            }
                        }
                    }
                }
            }
            for (_, x) in obj.iter_mut() {
                if matches!(x, Val::Obj(_) | Val::Arr(..)) {
                    *x = rebuild(ev, def, x, matched, env)?;
                }
            }
            Ok(Val::object(obj))
        }
        other => Ok(other.clone()),
    }
}
