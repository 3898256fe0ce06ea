// The collection picker every view that works on one collection starts with.
import type { CollectionInfo } from './api.js';

export function CollectionSelect(props: { id: string; value: string; collections: CollectionInfo[]; onChange: (name: string) => void }) {
  return (
    <div class="row">
      <label for={props.id}>Collection</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.collections.map((c) => (
          <option key={c.name} value={c.name}>
            {c.name}
          </option>
        ))}
      </select>
    </div>
  );
}
